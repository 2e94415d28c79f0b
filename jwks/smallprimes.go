package jwks

import (
	"math/big"
	"sync"
)

// smallPrimeBound bounds the primes of the trial division of RSA moduli.
const smallPrimeBound = 1 << 16

// smallPrimeTable holds the primes below smallPrimeBound (6542 of them) and
// their product (about 94,000 bits).
type smallPrimeTable struct {
	primes  []uint64
	product *big.Int
}

// smallPrimes is computed on first use: a sieve and a product tree, well
// under a millisecond.
var smallPrimes = sync.OnceValue(func() *smallPrimeTable {
	composite := make([]bool, smallPrimeBound)
	t := &smallPrimeTable{}
	for i := 2; i < smallPrimeBound; i++ {
		if composite[i] {
			continue
		}
		t.primes = append(t.primes, uint64(i))
		for j := i * i; j < smallPrimeBound; j += i {
			composite[j] = true
		}
	}
	// Multiply pairwise, so that the big multiplications are balanced.
	level := make([]*big.Int, len(t.primes))
	for i, p := range t.primes {
		level[i] = new(big.Int).SetUint64(p)
	}
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
			} else {
				next = append(next, new(big.Int).Mul(level[i], level[i+1]))
			}
		}
		level = next
	}
	t.product = level[0]
	return t
})

// smallFactor returns the smallest prime below 2^16 that divides n, or 0
// when there is none (n > 0). It computes gcd(n, product of the primes):
// one reduction of the product modulo n and one gcd of n-sized numbers,
// instead of 6542 divisions.
func smallFactor(n *big.Int) uint64 {
	t := smallPrimes()
	g := new(big.Int).GCD(nil, nil, n, t.product)
	if g.IsUint64() && g.Uint64() == 1 {
		return 0
	}
	// Only for a modulus that is refused: find the factor to report.
	var r, m big.Int
	for _, p := range t.primes {
		if r.Mod(g, m.SetUint64(p)).Sign() == 0 {
			return p
		}
	}
	return 0 // unreachable: g > 1 divides the product of the primes
}
