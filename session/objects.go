package session

import (
	"encoding/binary"
	"reflect"
	"strings"
	"unsafe"

	"github.com/sessiongate/sessiongate/internal/strictjson"
)

// The decoder reads the objects of the session model (Profile,
// Organization, Group, AccessKey, and ActiveSession for its UnmarshalJSON)
// through tables built once, at package initialization, from the struct
// tags: the tags are the one list of JSON names. A tagged field of a type
// the decoder has no reader for panics at initialization, so every test run
// fails until it gets one, rather than the field silently decoding as zero.

// fieldKind is how one field of a model type is read.
type fieldKind uint8

const (
	kString      fieldKind = iota + 1 // string
	kNullable                         // *string: a string, or null (nil)
	kBool                             // bool
	kSeconds                          // int64: a NumericDate, whole seconds rounded down
	kStrings                          // []string: an array of strings
	kPlans                            // []Plan: an array of strings
	kPermissions                      // []Permission: strings or {id, name} objects
	kRoles                            // []Role: strings or {id, name} objects
	kObject                           // a struct: an object read with sub
	kGroups                           // []Group: objects read with sub, null items skipped
	kProfiles                         // []Profile: likewise
)

// field is one JSON member of a model type.
type field struct {
	name string    // the JSON name, from the struct tag
	path string    // how errors name the container below it: "organization", "groups[]"
	off  uintptr   // offset of the Go field
	kind fieldKind //
	sub  *model    // kObject, kGroups, kProfiles: the table of the item type
	a, b uint64    // the name's key
	next uint8     // 1 + the index of the next field of the same length bucket, or 0
}

// model is the table of one struct type's JSON members, in declaration
// order.
type model struct {
	fields []field
	names  string // the names, space-separated, for the folding check
	// byLen[n] is 1 + the index of the first field whose name has n bytes
	// (0: none); field.next chains the others of that length. Longer names
	// are all in byLen[len(byLen)-1].
	byLen [24]uint8
}

// The tables. They are built once and only read afterwards.
var (
	models         = buildModels(reflect.TypeFor[ActiveSession](), reflect.TypeFor[AccessKey]())
	activeModel    = models[reflect.TypeFor[ActiveSession]()]
	profileModel   = models[reflect.TypeFor[Profile]()]
	accessKeyModel = models[reflect.TypeFor[AccessKey]()]
)

// buildModels returns the tables of roots and of every struct type they
// contain.
func buildModels(roots ...reflect.Type) map[reflect.Type]*model {
	all := map[reflect.Type]*model{}
	var build func(t reflect.Type) *model
	build = func(t reflect.Type) *model {
		if m, ok := all[t]; ok {
			return m
		}
		m := new(model)
		all[t] = m // before the fields: Profile and Group contain each other
		var names []string
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				panic("session: model field " + t.Name() + "." + sf.Name + " has no JSON name")
			}
			f := field{name: tag, path: tag, off: sf.Offset}
			switch sf.Type {
			case reflect.TypeFor[string]():
				f.kind = kString
			case reflect.TypeFor[*string]():
				f.kind = kNullable
			case reflect.TypeFor[bool]():
				f.kind = kBool
			case reflect.TypeFor[int64]():
				f.kind = kSeconds
			case reflect.TypeFor[[]string]():
				f.kind = kStrings
			case reflect.TypeFor[[]Plan]():
				f.kind = kPlans
			case reflect.TypeFor[[]Permission]():
				f.kind = kPermissions
			case reflect.TypeFor[[]Role]():
				f.kind = kRoles
			case reflect.TypeFor[[]Group]():
				f.kind, f.path, f.sub = kGroups, tag+"[]", build(sf.Type.Elem())
			case reflect.TypeFor[[]Profile]():
				f.kind, f.path, f.sub = kProfiles, tag+"[]", build(sf.Type.Elem())
			default:
				if sf.Type.Kind() != reflect.Struct {
					panic("session: no reader for model field " + t.Name() + "." + sf.Name + " of type " + sf.Type.String())
				}
				f.kind, f.sub = kObject, build(sf.Type)
			}
			m.fields = append(m.fields, f)
			names = append(names, tag)
		}
		m.names = strings.Join(names, " ")
		if len(m.fields) > 255 {
			panic("session: model " + t.Name() + " has too many fields")
		}
		for i := len(m.fields) - 1; i >= 0; i-- {
			f := &m.fields[i]
			f.a, f.b = key([]byte(f.name))
			n := min(len(f.name), len(m.byLen)-1)
			f.next, m.byLen[n] = m.byLen[n], uint8(i+1)
		}
		return m
	}
	for _, t := range roots {
		build(t)
	}
	return all
}

// key packs a name into two words. Two names of the same length, at most
// 16 bytes, are equal exactly when their keys are; longer ones are compared
// in full.
func key(name []byte) (a, b uint64) {
	switch n := len(name); {
	case n >= 8:
		return binary.LittleEndian.Uint64(name), binary.LittleEndian.Uint64(name[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(name)), uint64(binary.LittleEndian.Uint32(name[n-4:]))
	case n > 0:
		return uint64(name[0]) | uint64(name[n/2])<<8 | uint64(name[n-1])<<16, 0
	}
	return 0, 0
}

// find returns the field named name, or nil.
func (m *model) find(name []byte) *field {
	n := len(name)
	i := m.byLen[min(n, len(m.byLen)-1)]
	if i == 0 {
		return nil
	}
	a, b := key(name)
	for i != 0 {
		f := &m.fields[i-1]
		if f.a == a && f.b == b && len(f.name) == n && (n <= 16 || string(name) == f.name) {
			return f
		}
		i = f.next
	}
	return nil
}

// beginObject starts an object value; null counts as absent (false, no
// error).
func (st *decodeState) beginObject(field string) bool {
	if st.null() {
		return false
	}
	if st.d.Peek() != strictjson.Object {
		st.kindErr(field, "object")
		return false
	}
	return st.d.BeginObject()
}

// object reads an object (or null, which leaves p alone) into the struct at
// p, whose table is m. Members the table does not name are validated and
// skipped.
func (st *decodeState) object(m *model, p unsafe.Pointer) {
	d := &st.d
	if !st.beginObject("") {
		return
	}
	for d.More() {
		name := d.Name()
		if name == nil {
			return
		}
		if f := m.find(name); f != nil {
			st.field(f, unsafe.Add(p, f.off), f.name)
			continue
		}
		st.unknownField(name, m.names)
		d.Skip()
	}
}

// decodeModel reads src, one JSON object, into the struct at p, whose table
// is m: its members are read as claims, errors name them with no field.
func decodeModel(m *model, p unsafe.Pointer, src string) error {
	var st decodeState
	st.d.Reset(unsafe.Slice(unsafe.StringData(src), len(src)))
	st.d.RejectFoldedNames()
	st.src = src
	d := &st.d
	if d.BeginObject() {
		for d.More() {
			name := d.Name()
			if name == nil {
				break
			}
			f := m.find(name)
			if f == nil {
				st.unknownField(name, m.names)
				d.Skip()
				continue
			}
			st.claim = f.name
			if p := unsafe.Add(p, f.off); f.kind == kObject {
				st.object(f.sub, p)
			} else {
				st.field(f, p, "")
			}
		}
	}
	if err := d.End(); err != nil || st.err != nil {
		return st.fail()
	}
	return nil
}

// field reads the value of f into p. leaf names the value in errors.
func (st *decodeState) field(f *field, p unsafe.Pointer, leaf string) {
	switch f.kind {
	case kString:
		*(*string)(p) = st.str(leaf)
	case kNullable:
		*(**string)(p) = st.nullableStr(leaf)
	case kBool:
		*(*bool)(p) = st.boolean(leaf)
	case kSeconds:
		*(*int64)(p), _, _ = st.numericDate(leaf, 1)
	case kStrings:
		*(*[]string)(p) = st.strings(leaf, "array of strings")
	case kPlans:
		*(*[]Plan)(p) = st.plans(leaf)
	case kPermissions:
		*(*[]Permission)(p) = st.permissions()
	case kRoles:
		*(*[]Role)(p) = st.roles()
	case kObject:
		st.push(f.path)
		st.object(f.sub, p)
		st.pop()
	case kGroups:
		st.push(f.path)
		*(*[]Group)(p) = objects(st, func(g *Group) { st.object(f.sub, unsafe.Pointer(g)) })
		st.pop()
	case kProfiles:
		st.push(f.path)
		*(*[]Profile)(p) = objects(st, func(q *Profile) { st.object(f.sub, unsafe.Pointer(q)) })
		st.pop()
	}
}

// objects reads an array of objects with item; null items are skipped, a
// null array is absent.
func objects[T any](st *decodeState, item func(*T)) []T {
	d := &st.d
	if st.null() {
		return nil
	}
	if d.Peek() != strictjson.Array {
		st.kindErr("", "array of objects")
		return nil
	}
	d.BeginArray()
	var out []T
	for d.More() {
		if d.Peek() == strictjson.Null {
			d.Null()
			continue
		}
		var v T
		item(&v)
		if st.err != nil || d.Err() != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// profile reads an IProfile claim, replacing p whole.
func (st *decodeState) profile(p *Profile) {
	*p = Profile{}
	st.object(profileModel, unsafe.Pointer(p))
}

// accessKey reads an access_key claim, replacing k whole.
func (st *decodeState) accessKey(k *AccessKey) {
	*k = AccessKey{}
	st.object(accessKeyModel, unsafe.Pointer(k))
}
