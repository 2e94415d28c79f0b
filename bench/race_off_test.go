//go:build !race

package bench

// stormRequests is the storm size the issue asks for.
const stormRequests = 10_000
