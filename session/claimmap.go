package session

import (
	"strings"
	"unsafe"

	"github.com/sessiongate/sessiongate/internal/strictjson"
)

// This file holds what a Decoder reads beyond the Verdocs claims: mapped
// roles, permissions and plans, captured claims, and scopes. The rules are
// documented on [Decoder].

// The mappings, as indexes of decodeState.paths.
const (
	mapRoles = iota
	mapPermissions
	mapPlans
)

// candidate is a top-level member along a mapped path: its raw value and
// how much of the path its name took.
type candidate struct {
	raw     string // the member's value, a substring of the payload
	path    uint8  // which mapping
	nameLen int    // bytes of the path the member name matched
}

// pathStep reports whether a member called name matches path at this level:
// it is the whole path, or the path continues after it with ".".
func pathStep(path string, name []byte) bool {
	return len(name) <= len(path) && path[:len(name)] == string(name) &&
		(len(name) == len(path) || path[len(name)] == '.')
}

// watched reads one top-level member when paths or captures are set,
// recording its raw value when a capture or a path names it.
func (st *decodeState) watched(name []byte) {
	captured := -1
	for i, c := range st.capture {
		if string(name) == c {
			captured = i
			break
		}
	}
	var hits uint8
	for i, p := range st.paths {
		if p != "" && pathStep(p, name) {
			hits |= 1 << i
		}
	}
	if captured < 0 && hits == 0 {
		st.member(name)
		return
	}
	n := len(name) // name is not valid once the value is read
	d := &st.d
	d.Peek()
	start := d.Offset()
	st.member(name)
	if st.err != nil || d.Err() != nil {
		return
	}
	raw := st.src[start:d.Offset()]
	if captured >= 0 {
		t := st.t
		if t.captured == nil {
			t.captured = make([]string, 0, 2*len(st.capture))
		}
		t.captured = append(t.captured, st.capture[captured], raw)
	}
	for i := range st.paths {
		if hits&(1<<i) == 0 {
			continue
		}
		c := candidate{raw: raw, path: uint8(i), nameLen: n}
		if st.ncands < len(st.cands) {
			st.cands[st.ncands] = c
			st.ncands++
		} else {
			st.more = append(st.more, c)
		}
	}
}

// foldedWatched returns the captured name or mapped path step that name
// equals under case folding without being spelt as it, or "".
func (st *decodeState) foldedWatched(name []byte) string {
	for _, c := range st.capture {
		if equalFold(name, c) && string(name) != c {
			return c
		}
	}
	for _, p := range st.paths {
		if known := foldedStep(name, p); known != "" {
			return known
		}
	}
	return ""
}

// foldedStep returns the step of path (a prefix ending before a "." or at
// the end) that name equals under case folding without being spelt as it,
// or "".
func foldedStep(name []byte, path string) string {
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			continue
		}
		if step := path[:i]; equalFold(name, step) && string(name) != step {
			return step
		}
	}
	return ""
}

// located is what a walk along a path found.
type located struct {
	matches   int    // members the path ended at
	leaf      string // the value of the last of them
	notObject string // a step whose member is not an object, or ""
}

// mapped resolves and reads the mapped paths once the payload is read. It
// reports false on an error (st.err or the reader's).
func (st *decodeState) mapped() bool {
	for i, path := range st.paths {
		if path == "" {
			continue
		}
		st.claim, st.namespaced, st.depth = path, false, 0
		var at located
		for j := range st.ncands + len(st.more) {
			c := st.candidate(j)
			if int(c.path) != i {
				continue
			}
			if c.nameLen == len(path) {
				at.matches++
				at.leaf = c.raw
				continue
			}
			st.reset(c.raw)
			st.locate(path, c.nameLen, &at)
			if st.err != nil || st.d.Err() != nil {
				return false
			}
		}
		switch {
		case at.matches > 1:
			st.claimErr("", "one member for the path, not several", ErrClaimValue)
			return false
		case at.notObject != "":
			st.claimErr("", "an object at "+at.notObject, ErrClaimType)
			return false
		case at.matches == 0:
			st.claimErr("", "", ErrClaimMissing)
			return false
		}
		st.reset(at.leaf)
		a := &st.t.Active
		switch i {
		case mapRoles:
			var buf [stackItems]idName
			a.Roles = fromIDNames[Role](st.mappedIDNames(&buf))
		case mapPermissions:
			var buf [stackItems]idName
			a.Permissions = fromIDNames[Permission](st.mappedIDNames(&buf))
		case mapPlans:
			a.Plans = st.mappedPlans()
		}
		if st.err != nil || st.d.Err() != nil {
			return false
		}
	}
	return true
}

// candidate returns the j-th candidate recorded.
func (st *decodeState) candidate(j int) *candidate {
	if j < st.ncands {
		return &st.cands[j]
	}
	return &st.more[j-st.ncands]
}

// reset points the reader at raw, a value already validated as part of the
// payload.
func (st *decodeState) reset(raw string) {
	st.d.Reset(unsafe.Slice(unsafe.StringData(raw), len(raw)))
	st.src = raw
}

// locate walks into the value at the reader, which a member matching
// path[:done] holds, looking for the rest of path.
func (st *decodeState) locate(path string, done int, at *located) {
	d := &st.d
	switch d.Peek() {
	case strictjson.Null:
		d.Null() // absent
		return
	case strictjson.Object:
	default:
		if at.notObject == "" {
			at.notObject = path[:done]
		}
		d.Skip()
		return
	}
	rest := path[done+1:]
	d.BeginObject()
	for d.More() {
		name := d.Name()
		switch {
		case name == nil:
			return
		case len(name) == len(rest) && string(name) == rest:
			at.matches++
			d.Peek()
			start := d.Offset()
			d.Skip()
			at.leaf = st.src[start:d.Offset()]
		case pathStep(rest, name):
			st.locate(path, done+1+len(name), at)
		default:
			if strictjson.Foldable(name) {
				if known := foldedStep(name, rest); known != "" {
					st.foldErr(name, known)
					return
				}
			}
			d.Skip()
		}
	}
}

// The types a mapped value may have.
const (
	wantIDNames = "array of strings or {id, name} objects, or a space-delimited string"
	wantStrings = "array of strings, or a space-delimited string"
)

// mappedIDNames reads mapped roles or permissions: an array of strings or
// {id, name} objects, or a space-delimited string.
func (st *decodeState) mappedIDNames(buf *[stackItems]idName) []idName {
	d := &st.d
	switch d.Peek() {
	case strictjson.Null:
		st.claimErr("", "", ErrClaimMissing)
		return nil
	case strictjson.String:
		s, _ := d.StringIn(st.src)
		items := buf[:0]
		for s != "" {
			var f string
			f, s, _ = strings.Cut(s, " ")
			if f != "" {
				items = append(items, idName{ID: f, Name: f})
			}
		}
		return items
	case strictjson.Array:
		return st.idNames(buf)
	}
	st.kindErr("", wantIDNames)
	return nil
}

// mappedPlans reads mapped plans: an array of strings or a space-delimited
// string.
func (st *decodeState) mappedPlans() []Plan {
	d := &st.d
	switch d.Peek() {
	case strictjson.Null:
		st.claimErr("", "", ErrClaimMissing)
		return nil
	case strictjson.String:
		s, _ := d.StringIn(st.src)
		return asPlans(splitSpaces(s))
	case strictjson.Array:
		return st.plans("")
	}
	st.kindErr("", wantStrings)
	return nil
}

// splitSpaces splits a space-delimited list into substrings, skipping
// empty items (nil when there are none).
func splitSpaces(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			if out == nil {
				out = make([]string, 0, strings.Count(s, " ")+1)
			}
			out = append(out, s[:i])
		}
		s = s[min(i+1, len(s)):]
	}
	return out
}

// scopeClaims is what the scope and scp claims held.
type scopeClaims struct {
	present uint8    // scopeSet | scpSet
	scope   string   // scope
	scp     string   // scp, as a string
	scpList []string // scp, as an array (scpSet|scpArray)
}

const (
	scopeSet = 1 << iota
	scpSet
	scpArray
)

// scopeClaim reads scope: a space-delimited string (null: absent).
func (st *decodeState) scopeClaim() {
	d := &st.d
	switch d.Peek() {
	case strictjson.Null:
		d.Null()
	case strictjson.String:
		st.scopes.scope, _ = d.StringIn(st.src)
		st.scopes.present |= scopeSet
	default:
		st.kindErr("", "space-delimited string")
	}
}

// scpClaim reads scp: a space-delimited string or an array of scopes (null:
// absent).
func (st *decodeState) scpClaim() {
	d := &st.d
	const want = "space-delimited string or array of strings"
	switch d.Peek() {
	case strictjson.Null:
		d.Null()
	case strictjson.String:
		st.scopes.scp, _ = d.StringIn(st.src)
		st.scopes.present |= scpSet
	case strictjson.Array:
		list := st.strings("", want)
		kept := list[:0]
		for _, s := range list {
			if strings.IndexByte(s, ' ') >= 0 {
				st.claimErr("", "one scope per array item, without spaces", ErrClaimValue)
				return
			}
			if s != "" {
				kept = append(kept, s)
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
		st.scopes.scpList = kept
		st.scopes.present |= scpSet | scpArray
	default:
		st.kindErr("", want)
	}
}

// finishScopes sets Token.Scopes from the scope claims read, refusing
// claims that disagree. It reports false on an error.
func (st *decodeState) finishScopes() bool {
	sc := &st.scopes
	scp := sc.scpList
	if sc.present&scpArray == 0 && sc.present&scpSet != 0 {
		scp = splitSpaces(sc.scp)
	}
	switch {
	case sc.present&scopeSet == 0:
		st.t.Scopes = scp
	default:
		st.t.Scopes = splitSpaces(sc.scope)
		if sc.present&scpSet != 0 && !sameSet(st.t.Scopes, scp) {
			st.claim, st.namespaced, st.depth = "scp", false, 0
			st.claimErr("", "the same scopes as scope", ErrClaimValue)
			st.t.Scopes = nil
			return false
		}
	}
	return true
}

// sameSet reports whether a and b hold the same strings, duplicates aside.
func sameSet(a, b []string) bool {
	return subset(a, b) && subset(b, a)
}

// subset reports whether every string of a is in b.
func subset(a, b []string) bool {
	if len(a)*len(b) > 256 {
		in := make(map[string]struct{}, len(b))
		for _, s := range b {
			in[s] = struct{}{}
		}
		for _, s := range a {
			if _, ok := in[s]; !ok {
				return false
			}
		}
		return true
	}
	for _, s := range a {
		found := false
		for _, u := range b {
			if s == u {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
