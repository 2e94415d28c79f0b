// Package strictjson is a small, strict, allocation-frugal JSON reader for
// untrusted token headers and payloads.
//
// It accepts exactly RFC 8259 JSON with the extra rules of RFC 7493 (I-JSON)
// that matter for security decisions:
//
//   - strings must be valid UTF-8, and \u escapes must not encode lone
//     surrogates;
//   - member names must be unique within an object (compared after
//     unescaping), so "last one wins" parser differentials are impossible;
//     on request ([Decoder.RejectFoldedNames]) they must also be unique
//     under the case folding encoding/json matches struct fields with;
//   - nothing but white space may follow the top-level value;
//   - nesting is limited to [MaxDepth] levels.
//
// The reader is pull-based: the caller walks objects and arrays and asks for
// the type it expects at each position. A value of another type is reported
// as [ErrType] so callers can name the offending claim. Errors are sticky: the
// first error stops the walk and is returned by [Decoder.Err].
package strictjson

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays a [Decoder] accepts.
const MaxDepth = 32

// Errors reported by [Decoder]. Every error the decoder returns wraps one of
// them.
var (
	// ErrSyntax reports input that is not JSON.
	ErrSyntax = errors.New("strictjson: syntax error")
	// ErrDuplicateName reports an object with two members of the same name.
	ErrDuplicateName = errors.New("strictjson: duplicate member name")
	// ErrFoldedName reports an object with two members whose names differ
	// but are equal under the case folding encoding/json uses to match
	// member names to struct fields ("sub" and "SUB", or "sub" and "ſub"
	// with U+017F). Only a decoder told to ([Decoder.RejectFoldedNames])
	// reports it.
	ErrFoldedName = errors.New("strictjson: member names equal under case folding")
	// ErrInvalidUTF8 reports a string that is not valid UTF-8 or holds a lone surrogate.
	ErrInvalidUTF8 = errors.New("strictjson: invalid UTF-8")
	// ErrTrailingData reports data after the top-level value.
	ErrTrailingData = errors.New("strictjson: trailing data after value")
	// ErrTooDeep reports nesting beyond MaxDepth.
	ErrTooDeep = errors.New("strictjson: nesting too deep")
	// ErrType reports a value of another JSON type than the caller asked for.
	ErrType = errors.New("strictjson: wrong JSON type")
)

// Kind is the JSON type of the next value.
type Kind uint8

// The JSON value kinds.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Object
	Array
)

// nameStackSize is how many member names the decoder tracks in place before
// it needs the heap. Realistic token payloads stay below it.
const nameStackSize = 48

// bigObject is the member count beyond which duplicate detection switches
// from pairwise comparison to a map, keeping hostile inputs linear.
const bigObject = 24

// frame tracks one open object or array.
type frame struct {
	array     bool
	first     bool   // no member or element read yet
	folded    bool   // a name seen so far is Foldable (only tracked when folding)
	nameStart int    // index into names of this object's first name
	bloom     uint64 // one bit per name seen, by length and end bytes
	// big holds the names once the object has many: exact names, or
	// folded ones (mapped to the name as spelt) when the decoder folds.
	big map[string]string
}

// Decoder reads one JSON value from a byte slice. Create it with [New]; the
// zero value is not usable. A Decoder must not be copied after first use.
//
// A Decoder keeps its bookkeeping in fixed arrays, so one declared as a local
// variable (var d strictjson.Decoder; d.Reset(data)) stays on the stack.
type Decoder struct {
	data    []byte
	pos     int
	err     error
	depth   int
	nnames  int
	fold    bool // also reject names equal under case folding
	frames  [MaxDepth]frame
	names   [nameStackSize][]byte
	scratch [64]byte
}

// Reset readies the decoder for new input. It keeps the
// [Decoder.RejectFoldedNames] setting.
func (d *Decoder) Reset(data []byte) {
	clear(d.names[:d.nnames])
	clear(d.frames[:d.depth])
	d.data = data
	d.pos = 0
	d.err = nil
	d.depth = 0
	d.nnames = 0
}

// RejectFoldedNames makes the decoder also reject, in every object at every
// level, two member names that differ but that encoding/json treats as one
// when it matches names to struct fields: names equal under Unicode simple
// case folding, as [bytes.EqualFold] compares them ("sub", "SUB", "Sub",
// "ſub" with U+017F; "k" and U+212A KELVIN SIGN). The error wraps
// [ErrFoldedName]. Use it when the same input is also read with
// encoding/json, so that both readers see the same members. The check costs
// nothing for names without upper-case ASCII letters and non-ASCII bytes
// (see [Foldable]) in objects that hold only such names.
func (d *Decoder) RejectFoldedNames() { d.fold = true }

// Foldable reports whether name holds an upper-case ASCII letter or a
// non-ASCII byte. Two different names that are equal under case folding
// are never both free of these: a name that is not Foldable can only
// collide with one that is.
func Foldable(name []byte) bool {
	// Eight bytes at a time: a byte's high bit is set in hi when it is
	// non-ASCII, or in ge&^gt when it lies in 'A'..'Z'. (The additions
	// carry into the next byte only from a non-ASCII byte, which already
	// decides.)
	const ones, high = 0x0101010101010101, 0x8080808080808080
	for len(name) >= 8 {
		w := binary.LittleEndian.Uint64(name)
		ge := w + ones*(0x80-'A') // high bit: byte >= 'A'
		gt := w + ones*(0x80-'Z'-1)
		if (w|ge&^gt)&high != 0 {
			return true
		}
		name = name[8:]
	}
	for _, c := range name {
		if c-'A' < 26 || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the current byte offset.
func (d *Decoder) Offset() int { return d.pos }

// Fail records err as the decoder's error (if none is recorded yet) and
// returns the recorded error.
func (d *Decoder) Fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

func (d *Decoder) syntax() {
	d.Fail(&Error{Offset: d.pos, Err: ErrSyntax})
}

// Error carries the offset at which decoding failed.
type Error struct {
	Offset int   // byte offset in the input
	Err    error // the category sentinel
}

// Error implements error.
func (e *Error) Error() string { return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset) }

// Unwrap returns the category sentinel.
func (e *Error) Unwrap() error { return e.Err }

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	if d.err != nil {
		return Invalid
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return Invalid
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == '"':
		return String
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// at reports whether the next byte is c, with no white space before it and
// no error recorded: the fast path of the readers after a [Decoder.Peek]
// (which skipped the white space). When it reports false, the readers
// Peek themselves.
func (d *Decoder) at(c byte) bool {
	return d.pos < len(d.data) && d.data[d.pos] == c && d.err == nil
}

// typeErr records ErrType for the next value (and reports it).
func (d *Decoder) typeErr() {
	d.Fail(&Error{Offset: d.pos, Err: ErrType})
}

// BeginObject consumes '{'. Walk the members with [Decoder.More] and
// [Decoder.Name].
func (d *Decoder) BeginObject() bool { return d.begin(Object) }

// BeginArray consumes '['. Walk the elements with [Decoder.More].
func (d *Decoder) BeginArray() bool { return d.begin(Array) }

// begin opens a container of kind want, or records why it cannot.
func (d *Decoder) begin(want Kind) bool {
	open := byte('{')
	if want == Array {
		open = '['
	}
	if !d.at(open) {
		if k := d.Peek(); k != want {
			d.kindErr(k)
			return false
		}
	}
	return d.push(want == Array)
}

func (d *Decoder) push(array bool) bool {
	if d.depth >= MaxDepth {
		d.Fail(&Error{Offset: d.pos, Err: ErrTooDeep})
		return false
	}
	d.pos++
	d.frames[d.depth] = frame{array: array, first: true, nameStart: d.nnames}
	d.depth++
	return true
}

// More reports whether the current object or array has another member or
// element, consuming the separating comma, or its closing bracket when it has
// none. It returns false on error too; check [Decoder.Err] after the loop.
func (d *Decoder) More() bool {
	if d.err != nil || d.depth == 0 {
		return false
	}
	f := &d.frames[d.depth-1]
	d.skipSpace()
	if d.pos >= len(d.data) {
		d.syntax()
		return false
	}
	c := d.data[d.pos]
	closer := byte('}')
	if f.array {
		closer = ']'
	}
	if c == closer {
		d.pos++
		clear(d.names[f.nameStart:d.nnames])
		d.nnames = f.nameStart
		*f = frame{}
		d.depth--
		return false
	}
	if f.first {
		f.first = false
		return true
	}
	if c != ',' {
		d.syntax()
		return false
	}
	d.pos++
	return true
}

// Name reads a member name and the colon after it. The returned slice is
// valid until the next call on the decoder; it aliases the input when the
// name holds no escapes.
func (d *Decoder) Name() []byte {
	if d.err != nil {
		return nil
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		d.syntax()
		return nil
	}
	raw, escaped, foldable, ok := d.scanName()
	if !ok {
		return nil
	}
	var unescaped []byte
	if escaped {
		unescaped = d.unescape(raw, d.scratch[:0])
		foldable = Foldable(unescaped)
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		d.syntax()
		return nil
	}
	d.pos++
	if escaped {
		if !d.remember(unescaped, nil, foldable) {
			return nil
		}
		return unescaped
	}
	if !d.remember(raw, raw, foldable) {
		return nil
	}
	return raw
}

// remember records name in the current object and reports a duplicate. keep
// is what the table stores: name itself when it lives in the input, or nil to
// store a copy (name is then in scratch space). foldable is Foldable(name).
func (d *Decoder) remember(name, keep []byte, foldable bool) bool {
	f := &d.frames[d.depth-1]
	if f.big != nil {
		return d.rememberBig(f, name)
	}
	bit := nameBit(name)
	if f.bloom&bit != 0 {
		for _, n := range d.names[f.nameStart:d.nnames] {
			if bytes.Equal(n, name) {
				d.Fail(&Error{Offset: d.pos, Err: ErrDuplicateName})
				return false
			}
		}
	}
	f.bloom |= bit
	if d.fold && (foldable || f.folded) && !d.unfolded(f, name) {
		return false
	}
	if d.nnames-f.nameStart >= bigObject || d.nnames == nameStackSize {
		// Many names, or the in-place table is full: this object goes on
		// in a map, and its names leave the table.
		f.big = make(map[string]string, 2*bigObject)
		for _, n := range d.names[f.nameStart:d.nnames] {
			d.addBig(f, n)
		}
		d.addBig(f, name)
		clear(d.names[f.nameStart:d.nnames])
		d.nnames = f.nameStart
		return true
	}
	if keep == nil {
		keep = bytes.Clone(name)
	}
	d.names[d.nnames] = keep
	d.nnames++
	return true
}

// unfolded reports whether name (no exact duplicate) differs under case
// folding from the object's earlier names, recording ErrFoldedName when it
// does not. Only a Foldable name can fold to another name, so remember calls
// it only for a Foldable name, or once the object has had one; from then on
// every name is compared.
func (d *Decoder) unfolded(f *frame, name []byte) bool {
	f.folded = true
	for _, n := range d.names[f.nameStart:d.nnames] {
		if bytes.EqualFold(n, name) {
			d.Fail(&Error{Offset: d.pos, Err: ErrFoldedName})
			return false
		}
	}
	return true
}

// rememberBig is remember for an object whose names are in a map.
func (d *Decoder) rememberBig(f *frame, name []byte) bool {
	if !d.fold {
		if _, dup := f.big[string(name)]; dup {
			d.Fail(&Error{Offset: d.pos, Err: ErrDuplicateName})
			return false
		}
		f.big[string(name)] = ""
		return true
	}
	var buf [64]byte
	if spelt, dup := f.big[string(appendFolded(buf[:0], name))]; dup {
		err := ErrFoldedName
		if spelt == string(name) {
			err = ErrDuplicateName
		}
		d.Fail(&Error{Offset: d.pos, Err: err})
		return false
	}
	d.addBig(f, name)
	return true
}

// addBig adds name to the object's map: its folded form when folding.
func (d *Decoder) addBig(f *frame, name []byte) {
	if !d.fold {
		f.big[string(name)] = ""
		return
	}
	var buf [64]byte
	f.big[string(appendFolded(buf[:0], name))] = string(name)
}

// appendFolded appends the case-folded form of name, as encoding/json folds
// member names (its foldName): ASCII letters upper-cased, every other rune
// replaced by the smallest rune of its simple-folding orbit. Two names
// have the same folded form exactly when [bytes.EqualFold] reports them
// equal.
func appendFolded(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// valueByte marks the bytes a string may hold without a closer look:
// ASCII from space on, except the quote and the backslash. nameByte is
// valueByte without the upper-case letters, so that scanning a name also
// tells whether it is Foldable. Constants, so no package state is mutable.
const (
	valueByte = "" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x01\x01\x01" +
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	nameByte = "" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
		"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x01\x01" +
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
)

// nameBit maps a name to one of 64 bits, so most names need no comparison
// with the earlier ones: two equal names always get the same bit.
func nameBit(name []byte) uint64 {
	h := uint64(len(name))
	if len(name) > 0 {
		h = h*31 + uint64(name[0])
		h = h*31 + uint64(name[len(name)-1])
		h = h*31 + uint64(name[len(name)/2])
	}
	return 1 << (h * 0x9E3779B97F4A7C15 >> 58)
}

// scanString consumes a string starting at d.pos (a quote) and returns its
// raw content (between the quotes), whether it holds escapes, and whether it
// is well formed. UTF-8 and escapes are validated here.
func (d *Decoder) scanString() (raw []byte, escaped, ok bool) {
	start := d.pos + 1
	i := start
	data := d.data
	for i < len(data) {
		for i < len(data) && valueByte[data[i]] != 0 {
			i++
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return data[start:i], escaped, true
		case c == '\\':
			escaped = true
			n, ok := d.escape(i)
			if !ok {
				return nil, false, false
			}
			i += n
		case c < 0x20:
			d.pos = i
			d.syntax()
			return nil, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			n, ok := d.rune(i)
			if !ok {
				return nil, false, false
			}
			i += n
		}
	}
	d.pos = i
	d.syntax()
	return nil, false, false
}

// scanName is scanString for a member name. It also reports whether the
// raw name holds an upper-case ASCII letter or a non-ASCII byte (see
// [Foldable]): nameByte sends those out of the fast loop, so names without
// them cost nothing more.
func (d *Decoder) scanName() (raw []byte, escaped, foldable, ok bool) {
	start := d.pos + 1
	i := start
	data := d.data
	for i < len(data) {
		for i < len(data) && nameByte[data[i]] != 0 {
			i++
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return data[start:i], escaped, foldable, true
		case c == '\\':
			escaped = true
			n, ok := d.escape(i)
			if !ok {
				return nil, false, false, false
			}
			i += n
		case c < 0x20:
			d.pos = i
			d.syntax()
			return nil, false, false, false
		case c < utf8.RuneSelf: // an upper-case letter
			foldable = true
			i++
		default:
			foldable = true
			n, ok := d.rune(i)
			if !ok {
				return nil, false, false, false
			}
			i += n
		}
	}
	d.pos = i
	d.syntax()
	return nil, false, false, false
}

// escape validates the escape sequence at data[i] (a backslash) and returns
// its length, or records the error.
func (d *Decoder) escape(i int) (int, bool) {
	data := d.data
	if i+1 >= len(data) {
		d.pos = i
		d.syntax()
		return 0, false
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		r, n := decodeU(data[i:])
		if n == 0 {
			d.pos = i
			d.syntax()
			return 0, false
		}
		if r < 0 {
			d.pos = i
			d.Fail(&Error{Offset: i, Err: ErrInvalidUTF8})
			return 0, false
		}
		return n, true
	}
	d.pos = i
	d.syntax()
	return 0, false
}

// rune validates the UTF-8 sequence at data[i] and returns its length, or
// records the error.
func (d *Decoder) rune(i int) (int, bool) {
	r, size := utf8.DecodeRune(d.data[i:])
	if r == utf8.RuneError && size == 1 {
		d.pos = i
		d.Fail(&Error{Offset: i, Err: ErrInvalidUTF8})
		return 0, false
	}
	return size, true
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// decodeU decodes a \uXXXX escape (with its low-surrogate partner when it is
// a high surrogate) at the start of b. It returns the rune and the bytes
// used; n == 0 is a syntax error, r < 0 a lone surrogate.
func decodeU(b []byte) (r rune, n int) {
	if len(b) < 6 {
		return 0, 0
	}
	r, ok := hex4(b[2:6])
	if !ok {
		return 0, 0
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return -1, 6
	case r >= 0xD800 && r <= 0xDBFF:
		if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
			return -1, 6
		}
		lo, ok := hex4(b[8:12])
		if !ok {
			return 0, 0
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return -1, 6
		}
		return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
	}
	return r, 6
}

// unescape appends the unescaped form of a validated raw string to dst.
func (d *Decoder) unescape(raw, dst []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := decodeU(raw[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		}
		i += 2
	}
	return dst
}

// StringBytes reads a string value and returns its unescaped bytes. The
// slice aliases the input when the string has no escapes; otherwise it is
// freshly allocated. ok is false on error (including ErrType).
func (d *Decoder) StringBytes() (b []byte, ok bool) {
	if k := d.Peek(); k != String {
		d.kindErr(k)
		return nil, false
	}
	raw, escaped, ok := d.scanString()
	if !ok {
		return nil, false
	}
	if escaped {
		return d.unescape(raw, make([]byte, 0, len(raw))), true
	}
	return raw, true
}

// StringIn reads a string value. When the string has no escapes the result
// is a substring of src, which must hold the same bytes as the decoder's
// input (string(input)), so no allocation is made; otherwise it is a new
// string.
func (d *Decoder) StringIn(src string) (string, bool) {
	if !d.at('"') {
		if k := d.Peek(); k != String {
			d.kindErr(k)
			return "", false
		}
	}
	start := d.pos + 1
	raw, escaped, ok := d.scanString()
	if !ok {
		return "", false
	}
	if escaped {
		return string(d.unescape(raw, make([]byte, 0, len(raw)))), true
	}
	if len(src) == len(d.data) {
		return src[start : start+len(raw)], true
	}
	return string(raw), true
}

func (d *Decoder) kindErr(k Kind) {
	if k == Invalid {
		d.syntax()
	} else {
		d.typeErr()
	}
}

// Bool reads true or false.
func (d *Decoder) Bool() (v, ok bool) {
	if k := d.Peek(); k != Bool {
		d.kindErr(k)
		return false, false
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("true")) {
		d.pos += 4
		return true, d.endLiteral()
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("false")) {
		d.pos += 5
		return false, d.endLiteral()
	}
	d.syntax()
	return false, false
}

// Null consumes a null literal; it reports false (and no error) when the
// next value is not null.
func (d *Decoder) Null() bool {
	if !d.at('n') && d.Peek() != Null {
		return false
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("null")) {
		d.pos += 4
		return d.endLiteral()
	}
	d.syntax()
	return false
}

// endLiteral checks that a literal is not glued to more letters ("truex").
func (d *Decoder) endLiteral() bool {
	if d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			d.syntax()
			return false
		}
	}
	return true
}

// NumberBytes reads a number and returns its text, validated against the
// JSON grammar.
func (d *Decoder) NumberBytes() ([]byte, bool) {
	if k := d.Peek(); k != Number {
		d.kindErr(k)
		return nil, false
	}
	data := d.data
	start := d.pos
	i := start
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		d.syntax()
		return nil, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			d.syntax()
			return nil, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			d.syntax()
			return nil, false
		}
	}
	d.pos = i
	if !d.endLiteral() {
		return nil, false
	}
	return data[start:i], true
}

// Skip reads and validates one value of any kind, including duplicate-name
// and UTF-8 checks inside it. It works iteratively on the decoder's own
// frame stack, so hostile nesting cannot grow the goroutine stack.
func (d *Decoder) Skip() bool {
	base := d.depth
	for {
		if !d.skipScalarOrOpen() {
			return false
		}
		// Close finished containers and find the next value to read.
		for d.depth > base {
			f := &d.frames[d.depth-1]
			if !d.More() {
				if d.err != nil {
					return false
				}
				continue // closed; look at the parent
			}
			if !f.array && d.Name() == nil && d.err != nil {
				return false
			}
			break
		}
		if d.depth == base {
			return d.err == nil
		}
	}
}

// skipScalarOrOpen consumes a scalar, or the opening bracket of a container.
func (d *Decoder) skipScalarOrOpen() bool {
	switch d.Peek() {
	case Object:
		return d.BeginObject()
	case Array:
		return d.BeginArray()
	case String:
		_, _, ok := d.scanString()
		return ok
	case Number:
		_, ok := d.NumberBytes()
		return ok
	case Bool:
		_, ok := d.Bool()
		return ok
	case Null:
		return d.Null()
	}
	d.syntax()
	return false
}

// End checks that only white space remains after the top-level value and
// returns the decoder's error, if any.
func (d *Decoder) End() error {
	if d.err != nil {
		return d.err
	}
	if d.depth != 0 {
		d.syntax()
		return d.err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		d.Fail(&Error{Offset: d.pos, Err: ErrTrailingData})
	}
	return d.err
}
