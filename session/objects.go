package session

import "github.com/sessiongate/sessiongate/internal/strictjson"

// object starts an object value; null counts as absent (false, no error).
func (st *decodeState) object(field string) bool {
	if st.null() {
		return false
	}
	if st.d.Peek() != strictjson.Object {
		st.kindErr(field, "object")
		return false
	}
	return st.d.BeginObject()
}

// profile reads an IProfile.
func (st *decodeState) profile(p *Profile) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		name := d.Name()
		switch string(name) {
		case "id":
			p.ID = st.str("id")
		case "user_id":
			p.UserID = st.str("user_id")
		case "organization_id":
			p.OrganizationID = st.str("organization_id")
		case "first_name":
			p.FirstName = st.str("first_name")
		case "last_name":
			p.LastName = st.str("last_name")
		case "email":
			p.Email = st.str("email")
		case "phone":
			p.Phone = st.nullableStr("phone")
		case "current":
			p.Current = st.boolean("current")
		case "organization":
			st.push("organization")
			st.organization(&p.Organization)
			st.pop()
		case "permissions":
			p.Permissions = st.strings("permissions", "array of strings")
		case "roles":
			p.Roles = st.strings("roles", "array of strings")
		case "plans":
			p.Plans = st.plans("plans")
		case "groups":
			st.push("groups[]")
			p.Groups = st.groups()
			st.pop()
		default:
			st.unknownField(name, profileFields)
			d.Skip()
		}
	}
}

func (st *decodeState) organization(o *Organization) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch name := d.Name(); string(name) {
		case "id":
			o.ID = st.str("id")
		case "name":
			o.Name = st.str("name")
		case "address":
			o.Address = st.nullableStr("address")
		case "phone":
			o.Phone = st.nullableStr("phone")
		case "business_name":
			o.BusinessName = st.nullableStr("business_name")
		case "is_business":
			o.IsBusiness = st.boolean("is_business")
		case "address2":
			o.Address2 = st.nullableStr("address2")
		case "contact_email":
			o.ContactEmail = st.nullableStr("contact_email")
		case "timezone":
			o.Timezone = st.nullableStr("timezone")
		case "envelope_responsible":
			o.EnvelopeResponsible = st.boolean("envelope_responsible")
		default:
			st.unknownField(name, organizationFields)
			d.Skip()
		}
	}
}

func (st *decodeState) groups() []Group { return objects(st, st.group) }

func (st *decodeState) profiles() []Profile { return objects(st, st.profile) }

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

// group reads an IGroup.
func (st *decodeState) group(g *Group) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch name := d.Name(); string(name) {
		case "id":
			g.ID = st.str("id")
		case "name":
			g.Name = st.str("name")
		case "organization_id":
			g.OrganizationID = st.str("organization_id")
		case "parent_id":
			g.ParentID = st.nullableStr("parent_id")
		case "permissions":
			g.Permissions = st.strings("permissions", "array of strings")
		case "roles":
			g.Roles = st.strings("roles", "array of strings")
		case "profiles":
			st.push("profiles[]")
			g.Profiles = st.profiles()
			st.pop()
		default:
			st.unknownField(name, groupFields)
			d.Skip()
		}
	}
}

func (st *decodeState) accessKey(k *AccessKey) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch name := d.Name(); string(name) {
		case "id":
			k.ID = st.str("id")
		case "type":
			k.Type = st.str("type")
		default:
			st.unknownField(name, accessKeyFields)
			d.Skip()
		}
	}
}
