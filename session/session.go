package session

import (
	"encoding/json"
	"time"
	"unsafe"
)

// ActiveSession is the caller's session, decoded from a verified access
// token. It models IActiveSession of @verdocs/js-sdk v1.0.12 field for field:
// json.Marshal of an ActiveSession is the IActiveSession shape, so a handler
// can send it to a JS front end unchanged. The fields the current SDK
// (6.x, IUserSession) adds, SessionID and GlobalAdmin, are omitted from JSON
// when zero, so a session decoded from a 1.0.12 payload marshals exactly as
// before. The 6.x jti is the token's [Registered] ID; a 6.x user token
// carries no roles, permissions or plans (they live on the profile, fetched
// from the API), so those stay empty.
//
// A session read from a request context that the middleware (or
// [NewTokenContext]) filled is that request's own copy: changing it changes
// no other request.
type ActiveSession struct {
	// Sub is the identity provider's user id.
	Sub string `json:"sub"`
	// Email is the user's email address.
	Email string `json:"email"`
	// EmailVerified reports whether the identity provider verified Email.
	EmailVerified bool `json:"email_verified"`
	// IssuedAt is the token's iat, in seconds since the Unix epoch.
	IssuedAt int64 `json:"iat"`
	// ExpiresAt is the token's exp, in seconds since the Unix epoch.
	ExpiresAt int64 `json:"exp"`
	// Permissions the user holds. Marshals as [] when empty.
	Permissions []Permission `json:"permissions"`
	// Roles the user holds. Marshals as [] when empty.
	Roles []Role `json:"roles"`
	// Profile is the user's current profile. A token without a profile
	// claim leaves it zero; it always marshals as an object, as IProfile is
	// not optional.
	Profile Profile `json:"profile"`
	// ProfileID is the id of the current profile.
	ProfileID string `json:"profile_id"`
	// OrganizationID is the id of the current profile's organization.
	OrganizationID string `json:"organization_id"`
	// Plans of the organization. Optional: omitted from JSON when empty.
	Plans []Plan `json:"plans,omitempty"`
	// SessionID is the identity provider's session id (sid): 6.x tokens
	// only, omitted from JSON when empty.
	SessionID string `json:"sid,omitempty"`
	// GlobalAdmin reports the 6.x global_admin claim: 6.x tokens only,
	// omitted from JSON when false.
	GlobalAdmin bool `json:"global_admin,omitempty"`
}

// Permission is an IPermission: a permission's id and display name. Tokens
// that carry permissions as plain strings decode to {ID: s, Name: s}.
type Permission struct {
	ID   string `json:"id"`   // permission id, e.g. "template:member:read"
	Name string `json:"name"` // display name (the id when the token sent a string)
}

// Role is an IRole: a role's id and display name. Tokens that carry roles as
// plain strings decode to {ID: s, Name: s}.
type Role struct {
	ID   string `json:"id"`   // role id, e.g. "owner"
	Name string `json:"name"` // display name (the id when the token sent a string)
}

// Plan is a TPlan, the name of a subscription plan. Unknown plan names decode
// and match like the known ones.
type Plan string

// Known TPlan values.
const (
	PlanEnvEssential Plan = "env:essential"
	PlanOrgStandard  Plan = "org:standard"
)

// Known TRole values (role ids). The set is open: unknown roles decode and
// match like these.
const (
	RoleOwner     = "owner"
	RoleBasicUser = "basic_user"
	RoleMember    = "member"
)

// Known TPermission values (permission ids). The set is open: unknown
// permissions decode and match like these.
const (
	PermOrgView                       = "org:view"
	PermMemberView                    = "member:view"
	PermOrgUpdate                     = "org:update"
	PermMemberAdd                     = "member:add"
	PermMemberRemove                  = "member:remove"
	PermAdminAdd                      = "admin:add"
	PermAdminRemove                   = "admin:remove"
	PermOrgDelete                     = "org:delete"
	PermOrgTransfer                   = "org:transfer"
	PermOwnerAdd                      = "owner:add"
	PermOwnerRemove                   = "owner:remove"
	PermTemplateCreatorCreatePersonal = "template:creator:create:personal"
	PermTemplateCreatorVisibility     = "template:creator:visibility"
	PermTemplateCreatorCreateOrg      = "template:creator:create:org"
	PermTemplateMemberRead            = "template:member:read"
	PermTemplateMemberWrite           = "template:member:write"
	PermTemplateMemberVisibility      = "template:member:visibility"
	PermTemplateCreatorDelete         = "template:creator:delete"
	PermTemplateMemberDelete          = "template:member:delete"
	PermTemplateCreatorCreatePublic   = "template:creator:create:public"
	PermRFormAccess                   = "rform:access"
	PermRCommonAccess                 = "rcommon:access"
	PermOrgList                       = "org:list"
	PermOrgCreate                     = "org:create"
)

// Profile is an IProfile. Optional arrays are omitted from JSON when empty;
// Phone is nullable (nil marshals as null).
type Profile struct {
	ID             string       `json:"id"`                    // profile id
	UserID         string       `json:"user_id"`               // the identity provider's user id
	OrganizationID string       `json:"organization_id"`       // id of the profile's organization
	FirstName      string       `json:"first_name"`            // first name
	LastName       string       `json:"last_name"`             // last name
	Email          string       `json:"email"`                 // email address
	Phone          *string      `json:"phone"`                 // phone number, nullable
	Current        bool         `json:"current"`               // whether this is the caller's currently selected profile
	Organization   Organization `json:"organization"`          // the profile's organization
	Permissions    []string     `json:"permissions,omitempty"` // TPermission values, optional (only on the current profile)
	Roles          []string     `json:"roles,omitempty"`       // TRole values, optional
	Plans          []Plan       `json:"plans,omitempty"`       // plans, optional
	Groups         []Group      `json:"groups,omitempty"`      // groups the profile belongs to, optional
}

// Organization is an IOrganization. The nullable strings are pointers (nil
// marshals as null).
type Organization struct {
	ID                  string  `json:"id"`                   // organization id
	Name                string  `json:"name"`                 // organization name
	Address             *string `json:"address"`              // street address, nullable
	Phone               *string `json:"phone"`                // phone number, nullable
	BusinessName        *string `json:"business_name"`        // registered business name, nullable
	IsBusiness          bool    `json:"is_business"`          // whether the organization is a business
	Address2            *string `json:"address2"`             // second address line, nullable
	ContactEmail        *string `json:"contact_email"`        // contact email address, nullable
	Timezone            *string `json:"timezone"`             // IANA time zone name, nullable
	EnvelopeResponsible bool    `json:"envelope_responsible"` // whether the organization is responsible for envelopes
}

// Group is an IGroup. ParentID is nullable; the arrays are optional.
type Group struct {
	ID             string    `json:"id"`                    // group id
	Name           string    `json:"name"`                  // group name
	OrganizationID string    `json:"organization_id"`       // id of the group's organization
	ParentID       *string   `json:"parent_id"`             // id of the parent group, nullable
	Permissions    []string  `json:"permissions,omitempty"` // TPermission values, optional
	Roles          []string  `json:"roles,omitempty"`       // TRole values, optional
	Profiles       []Profile `json:"profiles,omitempty"`    // member profiles, optional
}

// SigningSession is the session of someone invited to sign, decoded from a
// signing-session token of either SDK generation (see [KindSigning]): 1.0.x
// tokens carry document_id, role and access_key; 6.x tokens (ISigningSession)
// carry session_type "signing", envelope_id, role_name and key_type. The
// 6.x fields are omitted from JSON when empty; the 6.x sub is the token's
// [Registered] Subject.
type SigningSession struct {
	ProfileID  string    `json:"profile_id"`  // the signer's profile id
	DocumentID string    `json:"document_id"` // 1.0.x: the document to sign (marks a signing token)
	Role       string    `json:"role"`        // 1.0.x: the signer's role name in the document
	Email      string    `json:"email"`       // the signer's email address
	AccessKey  AccessKey `json:"access_key"`  // 1.0.x: the invitation the session was opened with
	Iss        string    `json:"iss"`         // the issuer
	// Aud marshals as a string when it holds one audience, as the token had it.
	Aud       Audience `json:"aud"`
	ExpiresAt int64    `json:"exp"` // exp, whole seconds since the Unix epoch (rounded down)
	IssuedAt  int64    `json:"iat"` // iat, whole seconds since the Unix epoch (rounded down)
	// SessionType is the token's session_type: "signing" for 6.x tokens, ""
	// for 1.0.x ones.
	SessionType string `json:"session_type,omitempty"`
	EnvelopeID  string `json:"envelope_id,omitempty"` // 6.x: the envelope to sign (marks a signing token)
	RoleName    string `json:"role_name,omitempty"`   // 6.x: the signer's role name in the envelope
	KeyType     string `json:"key_type,omitempty"`    // 6.x: the access key type (TAccessKeyType), e.g. "email"
}

// AccessKey identifies the invitation a signing session was opened with.
type AccessKey struct {
	ID   string `json:"id"`   // access key id
	Type string `json:"type"` // access key type, e.g. "email" or "in_app"
}

// Audience is a token's aud claim: one audience or several. It unmarshals
// from a string or an array of strings and marshals back to a string when it
// holds exactly one value.
type Audience []string

// MarshalJSON writes a single audience as a string, others as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string, an array of strings, or null (nil).
func (a *Audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return &ClaimError{Claim: "aud", Err: ErrClaimType}
	}
	*a = many
	return nil
}

// Contains reports whether aud is one of the audiences.
func (a Audience) Contains(aud string) bool {
	for _, v := range a {
		if v == aud {
			return true
		}
	}
	return false
}

// MarshalJSON writes the IActiveSession shape; permissions and roles are
// written as [] rather than null when empty.
func (s ActiveSession) MarshalJSON() ([]byte, error) {
	type plain ActiveSession
	p := plain(s)
	if p.Permissions == nil {
		p.Permissions = []Permission{}
	}
	if p.Roles == nil {
		p.Roles = []Role{}
	}
	return json.Marshal(p)
}

// UnmarshalJSON reads the IActiveSession shape [ActiveSession.MarshalJSON]
// writes, and nothing else: the member names exactly as the struct tags
// spell them, with no namespace and none of a token's rules (a
// "document_id" or "https://verdocs.com/email" member is just an unknown
// member, skipped). permissions and roles may be {id, name} objects or
// strings (s reads as {ID: s, Name: s}). It is as strict as [Decoder.Decode]
// about the JSON (duplicate or folded member names, invalid UTF-8) and the
// types (a *[ClaimError] naming the member), and replaces the whole
// session. null leaves the session unchanged.
func (s *ActiveSession) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var out ActiveSession
	if err := decodeModel(activeModel, unsafe.Pointer(&out), string(b)); err != nil {
		return err
	}
	*s = out
	return nil
}

// IssuedAtTime returns IssuedAt as a time.Time (the zero Time when unset).
func (s *ActiveSession) IssuedAtTime() time.Time { return unixTime(s.IssuedAt) }

// ExpiresAtTime returns ExpiresAt as a time.Time (the zero Time when unset).
func (s *ActiveSession) ExpiresAtTime() time.Time { return unixTime(s.ExpiresAt) }

// ExpiredAt reports whether the session has expired at now: a session
// without exp counts as expired, as the JS SDK treats it as no session. A nil
// session is expired.
func (s *ActiveSession) ExpiredAt(now time.Time) bool {
	return s == nil || expired(s.ExpiresAt, now)
}

// ExpiredAt reports whether the signing session has expired at now (no exp
// counts as expired; a nil session is expired).
func (s *SigningSession) ExpiredAt(now time.Time) bool {
	return s == nil || expired(s.ExpiresAt, now)
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func expired(exp int64, now time.Time) bool {
	return exp <= 0 || now.Unix() >= exp
}
