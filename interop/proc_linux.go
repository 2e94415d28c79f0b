package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill cmd's process if the suite itself
// dies without running its cleanup (SIGKILL, a crash).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
