package policy

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opKind is a condition operator's family, its negation taken out.
type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnEquals
	opArnLike
	opNull
)

type opInfo struct {
	kind opKind
	neg  bool
}

// operators are the condition operators of IAM-COND (spec §5.3), without
// the ForAnyValue:/ForAllValues: prefixes and the IfExists suffix. Names
// are case-sensitive, as IAM spells them.
var operators = map[string]opInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opArnEquals, false},
	"ArnNotEquals":              {opArnEquals, true},
	"ArnLike":                   {opArnLike, false},
	"ArnNotLike":                {opArnLike, true},
	"Null":                      {opNull, false},
}

// setKind is a condition's set operator.
type setKind uint8

const (
	setNone setKind = iota
	setAny          // ForAnyValue:
	setAll          // ForAllValues:
)

// keySource is where a condition key's value comes from when the request's
// Context does not carry the key.
type keySource uint8

const (
	srcContext         keySource = iota // only Request.Context
	srcCallerAccount                    // kms:CallerAccount, aws:PrincipalAccount
	srcPrincipalARN                     // aws:PrincipalArn
	srcResourceAccount                  // aws:ResourceAccount
	srcCurrentTime                      // aws:CurrentTime
	srcEpochTime                        // aws:EpochTime
	srcECPair                           // kms:EncryptionContext:<key>
	srcECKeys                           // kms:EncryptionContextKeys
	srcIsService                        // aws:PrincipalIsAWSService
	srcPrincipalType                    // aws:PrincipalType
	srcUsername                         // aws:username
	srcUserID                           // aws:userid
	srcRegion                           // aws:RequestedRegion
	srcSecureTransport                  // aws:SecureTransport
	srcSourceIP                         // aws:SourceIp
	srcVPCSourceIP                      // aws:VpcSourceIp
)

// principalTypes are the values of aws:PrincipalType (IAM User Guide).
var principalTypes = [...]string{Account: "Account", User: "User", FederatedUser: "FederatedUser", AssumedRole: "AssumedRole"}

// condition is one compiled (operator, key, values) triple.
type condition struct {
	op       opKind
	neg      bool
	ifExists bool
	set      setKind
	key      string // as written
	src      keySource
	ecKey    string // the <key> of kms:EncryptionContext:<key>
	values   []cvalue
	// tmpls holds, beside values, the policy variables of each value, or
	// is nil when no value has any (variables.go).
	tmpls []*template
}

// cvalue is one policy value of a condition, parsed for its operator.
type cvalue struct {
	s   string  // the text (StringEquals*, BinaryEquals)
	pat pattern // StringLike
	num float64
	t   time.Time
	b   bool // Bool; Null ("true": the key must be absent)
	ip  netip.Prefix
	arn []pattern // the six fields of an ARN, for Arn*
}

// compileCondition compiles a statement's Condition block; vars says
// that values may hold policy variables (a 2012-10-17 policy).
func compileCondition(n *node, vars bool) ([]condition, error) {
	if n.kind != kindObject {
		return nil, malformed(msgBadCondition)
	}
	var out []condition
	for _, m := range n.members {
		name := m.name
		set := setNone
		if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
			set, name = setAny, rest
		} else if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
			set, name = setAll, rest
		}
		info, ok := operators[name]
		ifExists := false
		if !ok {
			if base, cut := strings.CutSuffix(name, "IfExists"); cut {
				info, ok = operators[base]
				ifExists = true
			}
		}
		if !ok || info.kind == opNull && (ifExists || set != setNone) {
			return nil, malformed("Policy contains a statement with an unknown condition operator " + strconv.Quote(m.name) + ".")
		}
		if m.value.kind != kindObject || len(m.value.members) == 0 {
			return nil, malformed(msgBadCondition)
		}
		for _, kv := range m.value.members {
			c := condition{op: info.kind, neg: info.neg, ifExists: ifExists, set: set, key: kv.name}
			lk := strings.ToLower(kv.name)
			if set == setAll {
				if strings.HasPrefix(lk, "kms:encryptioncontext:") {
					return nil, malformed(msgOverlyPermissiveEC)
				}
				if strings.HasPrefix(lk, "aws:requesttag/") {
					return nil, malformed(msgOverlyPermissiveTag)
				}
			}
			if kv.name == "" {
				return nil, malformed(msgBadCondition)
			}
			c.src, c.ecKey = sourceOf(lk, kv.name)
			vals, err := conditionValues(kv.value)
			if err != nil {
				return nil, err
			}
			for i, v := range vals {
				var t *template
				if vars {
					t = parseTemplate(v)
				}
				cv, ok := compileValue(info.kind, v)
				if !ok && t == nil {
					return nil, malformed("Policy contains a statement with an invalid value " + strconv.Quote(v) + " for condition operator " + m.name + ".")
				}
				c.values = append(c.values, cv)
				if t != nil {
					if c.tmpls == nil {
						c.tmpls = make([]*template, len(vals))
					}
					c.tmpls[i] = t
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func sourceOf(lower, key string) (keySource, string) {
	switch lower {
	case "kms:calleraccount", "aws:principalaccount":
		return srcCallerAccount, ""
	case "aws:principalarn":
		return srcPrincipalARN, ""
	case "aws:resourceaccount":
		return srcResourceAccount, ""
	case "aws:currenttime":
		return srcCurrentTime, ""
	case "aws:epochtime":
		return srcEpochTime, ""
	case "kms:encryptioncontextkeys":
		return srcECKeys, ""
	case "aws:principalisawsservice":
		return srcIsService, ""
	case "aws:principaltype":
		return srcPrincipalType, ""
	case "aws:username":
		return srcUsername, ""
	case "aws:userid":
		return srcUserID, ""
	case "aws:requestedregion":
		return srcRegion, ""
	case "aws:securetransport":
		return srcSecureTransport, ""
	case "aws:sourceip":
		return srcSourceIP, ""
	case "aws:vpcsourceip":
		return srcVPCSourceIP, ""
	}
	if strings.HasPrefix(lower, "kms:encryptioncontext:") {
		return srcECPair, key[len("kms:encryptioncontext:"):]
	}
	return srcContext, ""
}

// conditionValues returns a condition's values: one scalar (string, number
// or Boolean) or a list of scalars.
func conditionValues(n *node) ([]string, error) {
	switch n.kind {
	case kindString, kindNumber, kindBool:
		return []string{n.str}, nil
	case kindArray:
		out := make([]string, 0, len(n.elems))
		for _, e := range n.elems {
			switch e.kind {
			case kindString, kindNumber, kindBool:
				out = append(out, e.str)
			default:
				return nil, malformed(msgBadCondition)
			}
		}
		return out, nil
	}
	return nil, malformed(msgBadCondition)
}

// compileValue parses a policy value for op; ok is false when the value
// cannot be one of op's values.
func compileValue(op opKind, s string) (cvalue, bool) {
	v := cvalue{s: s}
	switch op {
	case opStringLike:
		v.pat = compilePattern(s, true, false)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return v, false
		}
		v.num = f
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(s)
		if !ok {
			return v, false
		}
		v.t = t
	case opBool, opNull:
		b, ok := parseBool(s)
		if !ok {
			return v, false
		}
		v.b = b
	case opBinaryEquals:
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return v, false
		}
	case opIPAddress:
		if p, err := netip.ParsePrefix(s); err == nil {
			v.ip = p.Masked()
		} else if a, err := netip.ParseAddr(s); err == nil {
			v.ip = netip.PrefixFrom(a, a.BitLen())
		} else {
			return v, false
		}
	case opArnEquals, opArnLike:
		fields, ok := splitARN(s)
		if !ok {
			// Not an ARN: it can match no ARN (AWS accepts the policy).
			break
		}
		v.arn = make([]pattern, len(fields))
		for i, f := range fields {
			v.arn[i] = compilePattern(f, true, false)
		}
	}
	return v, true
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseDate parses an ISO 8601 date-time (RFC 3339, with or without
// fractional seconds; a date alone; a time without zone taken as UTC) or
// whole epoch seconds (spec §5.3).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var dateLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
}

// splitARN splits arn:partition:service:region:account:resource into its
// six fields; the resource keeps any further colons.
func splitARN(s string) ([6]string, bool) {
	var f [6]string
	rest := s
	for i := range 5 {
		var ok bool
		f[i], rest, ok = strings.Cut(rest, ":")
		if !ok {
			return f, false
		}
	}
	f[5] = rest
	return f, f[0] == "arn"
}

// reqValues are a condition key's values in a request, in one of five
// shapes so that finding them allocates nothing.
type reqValues struct {
	shape  uint8 // valNone, valOne, valList, valMapKeys, valTime, valAddr
	one    string
	addr   netip.Addr
	list   []string
	m      map[string]string
	t      time.Time
	epochT bool // valTime from aws:EpochTime: as a string, epoch seconds
}

const (
	valNone uint8 = iota
	valOne
	valList
	valMapKeys
	valTime
	valAddr
)

// count returns how many values there are.
func (v *reqValues) count() int {
	switch v.shape {
	case valOne, valTime, valAddr:
		return 1
	case valList:
		return len(v.list)
	case valMapKeys:
		return len(v.m)
	}
	return 0
}

// lookup finds the condition key's values: the request's Context first,
// then the values the request implies (spec §5).
func (c *condition) lookup(r *Request) reqValues {
	for i := range r.Context {
		e := &r.Context[i]
		if strings.EqualFold(e.Key, c.key) {
			if e.Multi {
				return reqValues{shape: valList, list: e.Values}
			}
			return reqValues{shape: valOne, one: e.Value}
		}
	}
	switch c.src {
	case srcCallerAccount:
		if a := r.Caller.account; a != "" {
			return reqValues{shape: valOne, one: a}
		}
	case srcPrincipalARN:
		if r.Caller.kind != Nobody && r.Caller.kind != Service {
			return reqValues{shape: valOne, one: r.Caller.iamARN}
		}
	case srcResourceAccount:
		if r.ResourceAccount != "" {
			return reqValues{shape: valOne, one: r.ResourceAccount}
		}
	case srcIsService:
		// Present in every signed request (IAM User Guide): "true" for an
		// AWS service principal, "false" otherwise.
		if r.Caller.kind != Nobody {
			return reqValues{shape: valOne, one: strconv.FormatBool(r.Caller.kind == Service)}
		}
	case srcPrincipalType:
		if k := int(r.Caller.kind); k < len(principalTypes) && principalTypes[k] != "" {
			return reqValues{shape: valOne, one: principalTypes[k]}
		}
	case srcUsername:
		if r.Caller.kind == User {
			return reqValues{shape: valOne, one: roleName(r.Caller.name)}
		}
	case srcUserID:
		gen := 0
		if r.Generation != nil {
			gen = r.Generation(r.Caller)
		}
		if id, ok := UserID(r.Caller, gen); ok {
			return reqValues{shape: valOne, one: id}
		}
	case srcRegion:
		if r.Region != "" {
			return reqValues{shape: valOne, one: r.Region}
		}
	case srcSecureTransport:
		// AWS KMS endpoints take HTTPS only (D64).
		if r.Caller.kind != Nobody {
			return reqValues{shape: valOne, one: "true"}
		}
	case srcSourceIP:
		if r.SourceIP.IsValid() {
			return reqValues{shape: valAddr, addr: r.SourceIP}
		}
	case srcVPCSourceIP:
		if r.VPCSourceIP.IsValid() {
			return reqValues{shape: valAddr, addr: r.VPCSourceIP}
		}
	case srcCurrentTime, srcEpochTime:
		if !r.Time.IsZero() {
			return reqValues{shape: valTime, t: r.Time, epochT: c.src == srcEpochTime}
		}
	case srcECPair:
		if v, ok := r.EncryptionContext[c.ecKey]; ok {
			return reqValues{shape: valOne, one: v}
		}
		for k, v := range r.EncryptionContext {
			if strings.EqualFold(k, c.ecKey) {
				return reqValues{shape: valOne, one: v}
			}
		}
	case srcECKeys:
		if len(r.EncryptionContext) > 0 {
			return reqValues{shape: valMapKeys, m: r.EncryptionContext}
		}
	}
	return reqValues{}
}

// eval reports whether the condition holds for r (spec §5.3).
func (c *condition) eval(r *Request) bool {
	if c.tmpls != nil {
		c = c.expanded(r)
	}
	v := c.lookup(r)
	n := v.count()
	if c.op == opNull {
		absent := n == 0
		for i := range c.values {
			if c.values[i].b == absent {
				return true
			}
		}
		return false
	}
	if n == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.neg
	}
	k := 0 // request values that match some policy value
	switch v.shape {
	case valOne:
		if c.matchString(v.one) {
			k = 1
		}
	case valTime:
		if c.matchTime(v.t, v.epochT) {
			k = 1
		}
	case valAddr:
		if c.matchAddr(v.addr) {
			k = 1
		}
	case valList:
		for _, s := range v.list {
			if c.matchString(s) {
				k++
			}
		}
	case valMapKeys:
		for s := range v.m {
			if c.matchString(s) {
				k++
			}
		}
	}
	switch c.set {
	case setAny:
		if c.neg {
			return k < n
		}
		return k > 0
	case setAll:
		if c.neg {
			return k == 0
		}
		return k == n
	}
	if c.neg {
		return k == 0
	}
	return k > 0
}

// matchAddr is matchString for an address the request implies: an IP
// address condition compares it as it is, any other its text.
func (c *condition) matchAddr(a netip.Addr) bool {
	if c.op != opIPAddress {
		return c.matchString(a.String())
	}
	a = a.Unmap()
	for i := range c.values {
		if c.values[i].ip.Contains(a) {
			return true
		}
	}
	return false
}

// matchString reports whether the request value s matches one of the
// policy values under the operator's positive form. A value that cannot
// be read as the operator's type matches nothing.
func (c *condition) matchString(s string) bool {
	switch c.op {
	case opStringEquals, opBinaryEquals:
		for i := range c.values {
			if c.values[i].s == s {
				return true
			}
		}
	case opStringEqualsIgnoreCase:
		for i := range c.values {
			if strings.EqualFold(c.values[i].s, s) {
				return true
			}
		}
	case opStringLike:
		for i := range c.values {
			if c.values[i].pat.match(s) {
				return true
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false
		}
		return c.matchNumber(f)
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(s)
		if !ok {
			return false
		}
		return c.matchDate(t)
	case opBool:
		b, ok := parseBool(s)
		if !ok {
			return false
		}
		for i := range c.values {
			if c.values[i].b == b {
				return true
			}
		}
	case opIPAddress:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		return c.matchAddr(a)
	case opArnEquals, opArnLike:
		f, ok := splitARN(s)
		if !ok {
			return false
		}
	values:
		for i := range c.values {
			pats := c.values[i].arn
			if pats == nil {
				continue
			}
			for j := range pats {
				if !pats[j].match(f[j]) {
					continue values
				}
			}
			return true
		}
	}
	return false
}

// matchTime matches a time-valued request key (aws:CurrentTime,
// aws:EpochTime).
func (c *condition) matchTime(t time.Time, epoch bool) bool {
	switch c.op {
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		return c.matchDate(t)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		return c.matchNumber(float64(t.Unix()))
	}
	if epoch {
		return c.matchString(strconv.FormatInt(t.Unix(), 10))
	}
	return c.matchString(t.UTC().Format(time.RFC3339))
}

func (c *condition) matchNumber(f float64) bool {
	for i := range c.values {
		p := c.values[i].num
		var ok bool
		switch c.op {
		case opNumericEquals:
			ok = f == p
		case opNumericLessThan:
			ok = f < p
		case opNumericLessThanEquals:
			ok = f <= p
		case opNumericGreaterThan:
			ok = f > p
		case opNumericGreaterThanEquals:
			ok = f >= p
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *condition) matchDate(t time.Time) bool {
	for i := range c.values {
		cmp := t.Compare(c.values[i].t)
		var ok bool
		switch c.op {
		case opDateEquals:
			ok = cmp == 0
		case opDateLessThan:
			ok = cmp < 0
		case opDateLessThanEquals:
			ok = cmp <= 0
		case opDateGreaterThan:
			ok = cmp > 0
		case opDateGreaterThanEquals:
			ok = cmp >= 0
		}
		if ok {
			return true
		}
	}
	return false
}
