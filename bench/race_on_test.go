//go:build race

package bench

// stormRequests stays under the race detector's limit of 8128 live
// goroutines.
const stormRequests = 4000
