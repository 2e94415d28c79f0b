//go:build !linux

package main

import "os/exec"

// setDeathSignal is a no-op where the kernel has no parent-death signal:
// the deferred cleanup alone stops the processes.
func setDeathSignal(*exec.Cmd) {}
