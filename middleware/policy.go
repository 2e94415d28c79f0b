package middleware

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/internal/jws"
	"github.com/sessiongate/sessiongate/session"
)

// tenantSegment is the placeholder of a template issuer.
const tenantSegment = "{tenantid}"

// Defaults of an Issuer's zero fields.
const (
	defaultLeeway      = 30 * time.Second
	maxLeeway          = 10 * time.Minute
	defaultMaxLifetime = 24 * time.Hour
)

// policy is one Issuer, validated and compiled. It is read-only once built.
type policy struct {
	issuer string // as configured: a template keeps "{tenantid}"
	name   string // for errors and logs: `issuer[i] "…"`

	// A template issuer is prefix + tenant + suffix.
	template         bool
	prefix, suffix   string
	tenants          map[string]struct{}
	tenantAllowed    func(string) bool
	keys             KeySource
	audiences        []string
	header           jws.Policy // the allow-list and typ, applied by Admits
	leeway, lifetime time.Duration
	decoder          session.Decoder
	rules            []Rule
	allowSigning     bool
	acceptBound      bool
	skipAudience     bool
}

// policies finds the policy of an unverified iss in O(1) for exact issuers
// and in O(templates) for template issuers, whatever the number of tenants.
type policies struct {
	exact     map[string]*policy
	templates []*policy
}

// newPolicies validates and compiles the issuers. A contradictory
// configuration fails with an error naming the policy.
func newPolicies(issuers []Issuer) (policies, error) {
	ps := policies{exact: make(map[string]*policy, len(issuers))}
	if len(issuers) == 0 {
		return ps, configError("Issuers is required")
	}
	seen := map[string]bool{}
	for i := range issuers {
		p, err := newPolicy(i, &issuers[i])
		if err != nil {
			return ps, err
		}
		if seen[p.issuer] {
			return ps, configError("%s: a second policy for this issuer", p.name)
		}
		seen[p.issuer] = true
		if p.template {
			for _, q := range ps.templates {
				// Two templates can match one iss only when the one with the
				// shorter prefix also has the longer suffix.
				a, b := p, q
				if len(a.prefix) > len(b.prefix) {
					a, b = b, a
				}
				if strings.HasPrefix(b.prefix, a.prefix) && strings.HasSuffix(a.suffix, b.suffix) {
					return ps, configError("%s: may match the same issuers as the template %q", p.name, q.issuer)
				}
			}
			ps.templates = append(ps.templates, p)
			continue
		}
		ps.exact[p.issuer] = p
	}
	return ps, nil
}

func newPolicy(i int, c *Issuer) (*policy, error) {
	name := "issuer[" + strconv.Itoa(i) + "] " + strconv.Quote(c.Issuer)
	fail := func(format string, args ...any) (*policy, error) {
		return nil, configError("%s: "+format, append([]any{name}, args...)...)
	}
	if c.Issuer == "" {
		return fail("empty Issuer")
	}
	if c.Keys == nil {
		return fail("Keys is required")
	}
	if len(c.Audiences) == 0 && !c.InsecureSkipAudienceCheck {
		return fail("Audiences is required (or set InsecureSkipAudienceCheck)")
	}
	if slices.Contains(c.Audiences, "") {
		return fail("empty audience")
	}
	p := &policy{
		issuer: c.Issuer, name: name, keys: c.Keys, audiences: slices.Clone(c.Audiences),
		header:       jws.Policy{Algorithms: slices.Clone(c.Algorithms), Typ: c.Typ},
		leeway:       c.Leeway,
		lifetime:     c.MaxLifetime,
		rules:        slices.Clone(c.Require),
		allowSigning: c.AllowSigningSessions, acceptBound: c.InsecureAcceptBoundTokensAsBearer,
		skipAudience: c.InsecureSkipAudienceCheck,
	}
	if c.Algorithms != nil && len(c.Algorithms) == 0 {
		return fail("Algorithms is empty (leave it nil for the defaults)")
	}
	if err := p.header.Validate(); err != nil {
		return fail("%v", err)
	}
	switch {
	case p.leeway == 0:
		p.leeway = defaultLeeway
	case p.leeway < 0:
		p.leeway = 0
	case p.leeway > maxLeeway:
		return fail("Leeway %v is more than 10 minutes", p.leeway)
	}
	switch {
	case p.lifetime == 0:
		p.lifetime = defaultMaxLifetime
	case p.lifetime < 0:
		return fail("negative MaxLifetime")
	}
	if n := strings.Count(c.Issuer, tenantSegment); n > 0 {
		before, after, _ := strings.Cut(c.Issuer, tenantSegment)
		if n > 1 || !strings.HasSuffix(before, "/") || after != "" && after[0] != '/' {
			return fail("%s must appear once, as a whole path segment", tenantSegment)
		}
		if len(c.Tenants) == 0 && c.TenantAllowed == nil {
			return fail("a template issuer needs Tenants or TenantAllowed")
		}
		p.template, p.prefix, p.suffix = true, before, after
		p.tenants = make(map[string]struct{}, len(c.Tenants))
		for _, t := range c.Tenants {
			if !validTenant(t) {
				return fail("tenant %q is not a path segment", t)
			}
			p.tenants[t] = struct{}{}
		}
		p.tenantAllowed = c.TenantAllowed
	} else if len(c.Tenants) > 0 || c.TenantAllowed != nil {
		return fail("Tenants and TenantAllowed need %s in Issuer", tenantSegment)
	}
	for j, r := range p.rules {
		if r.check == nil {
			return fail("Require[%d] is the zero Rule (build rules with ClaimIn or Check)", j)
		}
	}
	p.decoder = newDecoder(c.Claims, p.captures())
	return p, nil
}

// captures lists the top-level claims the policy's checks read beyond the
// session: the tenant's tid and the claims of its rules.
func (p *policy) captures() []string {
	var names []string
	if p.template {
		names = append(names, "tid")
	}
	for _, r := range p.rules {
		if r.claim != "" && !slices.Contains(names, r.claim) {
			names = append(names, r.claim)
		}
	}
	return names
}

// validTenant reports whether t can fill a path segment: not empty, and no
// '/', '?', '#' or white space.
func validTenant(t string) bool {
	return t != "" && !strings.ContainsAny(t, "/?#% \t\r\n")
}

// lookup returns the policy for an unverified iss, and the tenant it names
// when the policy is a template. Reasons: ErrIssuer when no policy names
// iss, ErrTenant when a template matches but the tenant is not allowed.
func (ps *policies) lookup(iss string) (*policy, string, Reason) {
	if p := ps.exact[iss]; p != nil {
		return p, "", 0
	}
	for _, p := range ps.templates {
		if len(iss) <= len(p.prefix)+len(p.suffix) || !strings.HasPrefix(iss, p.prefix) || !strings.HasSuffix(iss, p.suffix) {
			continue
		}
		tenant := iss[len(p.prefix) : len(iss)-len(p.suffix)]
		if !validTenant(tenant) {
			continue
		}
		if _, ok := p.tenants[tenant]; ok || p.tenantAllowed != nil && p.tenantAllowed(tenant) {
			return p, tenant, 0
		}
		return nil, tenant, ErrTenant
	}
	return nil, "", ErrIssuer
}
