package jws

// b64Value maps a byte to its base64url (RFC 4648 §5) value, or 0xff for a
// byte outside the alphabet. A constant, so no package state is mutable.
const b64Value = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff" +
	"\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
	"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e" +
	"\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\x3f" +
	"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28" +
	"\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// decodedLen is the decoded size of n base64url characters without
// padding (n%4 == 1 is invalid and rejected by decodeSegment).
func decodedLen(n int) int { return n/4*3 + (n%4*6)/8 }

// decodeSegment decodes src, strict base64url without padding, into dst,
// which must be decodedLen(len(src)) bytes long. It reports false for any
// byte outside [A-Za-z0-9_-] (so padding, '+', '/', white space and CR/LF
// are all errors, unlike encoding/base64, which skips CR and LF), for a
// length of 1 mod 4, and for non-zero trailing bits (a non-canonical
// encoding). It is encoding/base64.RawURLEncoding.Strict() working on a
// string without a copy; FuzzDecodeSegment holds them equal.
func decodeSegment(dst []byte, src string) bool {
	if len(dst) != decodedLen(len(src)) {
		return false
	}
	si, di := 0, 0
	// Eight characters (six bytes) per step; one validity check per step.
	for ; len(src)-si >= 8; si, di = si+8, di+6 {
		s := src[si : si+8]
		a, b, c, d := b64Value[s[0]], b64Value[s[1]], b64Value[s[2]], b64Value[s[3]]
		e, f, g, h := b64Value[s[4]], b64Value[s[5]], b64Value[s[6]], b64Value[s[7]]
		if (a|b|c|d|e|f|g|h)&0xc0 != 0 {
			return false
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		out := dst[di : di+6]
		out[0], out[1], out[2], out[3], out[4], out[5] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16)
	}
	for ; len(src)-si >= 4; si, di = si+4, di+3 {
		s := src[si : si+4]
		a, b, c, d := b64Value[s[0]], b64Value[s[1]], b64Value[s[2]], b64Value[s[3]]
		if (a|b|c|d)&0xc0 != 0 {
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		out := dst[di : di+3]
		out[0], out[1], out[2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch s := src[si:]; len(s) {
	case 0:
		return true
	case 2:
		a, b := b64Value[s[0]], b64Value[s[1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
		return true
	case 3:
		a, b, c := b64Value[s[0]], b64Value[s[1]], b64Value[s[2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return false
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		dst[di], dst[di+1] = byte(v>>10), byte(v>>2)
		return true
	}
	return false
}
