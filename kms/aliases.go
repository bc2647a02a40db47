package kms

import (
	"context"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// aliasID names an alias: aliases are per account and Region.
type aliasID struct {
	account, name string
}

// alias is one alias and the key it points to.
type alias struct {
	name             string
	account          string
	target           *key
	created, updated int64
	// region is the Region its store record names: its Region's name, or
	// "" for a record written before Regions were recorded.
	region string
}

func (s *Service) aliasRecord(a *alias) store.Alias {
	return store.Alias{AliasID: a.storeID(), KeyID: s.storeID(a.target),
		Created: fromMicros(a.created), Updated: fromMicros(a.updated)}
}

// storeID is the alias's identity in the store.
func (a *alias) storeID() store.AliasID {
	return store.AliasID{Region: a.region, Account: a.account, Name: a.name}
}

// validateAliasName checks an alias name the way AWS does (D16, D19).
func validateAliasName(op keystate.Operation, name string) error {
	if err := checkLength(op, name, "aliasName", 1, 256); err != nil {
		return err
	}
	if !strings.HasPrefix(name, "alias/") {
		// D19, recorded.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			`Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ':' || c == '/' || c == '_' || c == '-') {
			return validationError(op, name, "aliasName", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
		}
	}
	if name == "alias/" {
		return kmsError(keystate.ErrInvalidAliasName, op, "", keystate.None, "Alias name "+name+" is not valid.")
	}
	return nil
}

// checkAliasCharacters refuses an alias name that passed the API model's
// pattern but holds a character the developer guide does not allow after
// "alias/": only letters, digits, '/', '_' and '-' (decision D22; the
// pattern also admits ':'). CreateAlias and UpdateAlias apply it after
// validateAliasName; DeleteAlias does not, so that an alias a store kept
// from before the rule can still be deleted.
func checkAliasCharacters(op keystate.Operation, name string) error {
	for i := len("alias/"); i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '-') {
			return kmsError(keystate.ErrValidation, op, "", keystate.None, name+" contains invalid characters for an alias")
		}
	}
	return nil
}

// reservedAlias reports whether name is in the alias/aws/ namespace that AWS
// keeps for AWS managed keys.
func reservedAlias(name string) bool { return strings.HasPrefix(name, "alias/aws/") }

// reservedAliasError refuses to create, retarget or delete an alias in the
// alias/aws/ namespace: only AWS manages those (no recording; kmsmodel's
// wording).
func reservedAliasError(op keystate.Operation) error {
	return kmsError(keystate.ErrInvalidAliasName, op, "", keystate.None,
		"Alias names that begin with alias/aws/ are reserved for AWS managed keys.")
}

// CreateAlias creates an alias for a key in the caller's account. The
// target is named by key ID or key ARN (decision D5).
//
// Errors: ValidationException (malformed alias name, D19; a character
// other than letters, digits, '/', '_' and '-' after "alias/", D22),
// InvalidAliasNameException (the reserved alias/aws/ namespace),
// InvalidArnException, NotFoundException, AccessDeniedException,
// KMSInvalidStateException (target pending deletion), AlreadyExistsException.
func (s *Service) CreateAlias(ctx context.Context, in *CreateAliasInput) (*CreateAliasOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*CreateAliasOutput, error) { return s.createAliasOnce(ctx, in) })
	}
	return s.createAliasOnce(ctx, in)
}

// createAliasOnce is one run of CreateAlias (cluster mode may run it again).
func (s *Service) createAliasOnce(ctx context.Context, in *CreateAliasInput) (res *CreateAliasOutput, err error) {
	in = orEmpty(in)
	const op = keystate.CreateAlias
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var arn string
	if err == nil {
		arn, err = s.createAlias(ctx, in, now, caller)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"aliasName": in.AliasName, "targetKeyId": in.TargetKeyId}, err)
	}
	if err != nil {
		return nil, err
	}
	return &CreateAliasOutput{}, nil
}

func (s *Service) createAlias(ctx context.Context, in *CreateAliasInput, now int64, caller string) (string, error) {
	const op = keystate.CreateAlias
	if err := validateAliasName(op, in.AliasName); err != nil {
		return "", err
	}
	if err := checkAliasCharacters(op, in.AliasName); err != nil {
		return "", err
	}
	if reservedAlias(in.AliasName) {
		return "", reservedAliasError(op)
	}
	if err := s.authorizeIAM(op, "", s.aliasARN(caller, in.AliasName), s.iamContext(true)); err != nil { // spec §3.2 rule 7
		return "", err
	}
	k, arn, err := s.resolve(ctx, op, caller, in.TargetKeyId, "targetKeyId", idOnly)
	if err != nil {
		return "", err
	}
	if err := keystate.Check(op, k.state, k.kind, arn); err != nil {
		return arn, err
	}
	id := aliasID{account: caller, name: in.AliasName}
	if s.rg.aliases[id] != nil {
		return arn, kmsError(keystate.ErrAlreadyExists, op, arn, k.state,
			"An alias with the name "+s.aliasARN(caller, in.AliasName)+" already exists")
	}
	a := &alias{name: in.AliasName, account: caller, target: k, created: now, updated: now, region: s.recordRegion(s.rg.index)}
	if err := s.persist(&store.Batch{PutAliases: []store.Alias{s.aliasRecord(a)}}); err != nil {
		return arn, internalError(op, arn, k.state, err)
	}
	s.rg.putAlias(id, a)
	if s.ec != nil {
		s.ecAliasChanged(op, a, nil, now)
	}
	return arn, nil
}

// UpdateAlias points an existing alias at another key. The key the alias
// points to now is not checked for its state (footnote [10]), but the
// caller needs kms:UpdateAlias on it as on the new one (spec §3.2 rule 7);
// the new target must not be pending deletion, and must be of the same
// type (symmetric, asymmetric or HMAC) and key usage as the current one.
//
// Errors: ValidationException (also for a new target of another type or
// key usage, and for an alias name with a character D22 forbids),
// InvalidAliasNameException (the reserved alias/aws/ namespace),
// NotFoundException (no such alias or key),
// InvalidArnException, AccessDeniedException, KMSInvalidStateException.
func (s *Service) UpdateAlias(ctx context.Context, in *UpdateAliasInput) (*UpdateAliasOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*UpdateAliasOutput, error) { return s.updateAliasOnce(ctx, in) })
	}
	return s.updateAliasOnce(ctx, in)
}

// updateAliasOnce is one run of UpdateAlias (cluster mode may run it again).
func (s *Service) updateAliasOnce(ctx context.Context, in *UpdateAliasInput) (res *UpdateAliasOutput, err error) {
	in = orEmpty(in)
	const op = keystate.UpdateAlias
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var arn string
	if err == nil {
		arn, err = s.updateAlias(ctx, in, now, caller)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"aliasName": in.AliasName, "targetKeyId": in.TargetKeyId}, err)
	}
	if err != nil {
		return nil, err
	}
	return &UpdateAliasOutput{}, nil
}

func (s *Service) updateAlias(ctx context.Context, in *UpdateAliasInput, now int64, caller string) (string, error) {
	const op = keystate.UpdateAlias
	if err := validateAliasName(op, in.AliasName); err != nil {
		return "", err
	}
	if err := checkAliasCharacters(op, in.AliasName); err != nil {
		return "", err
	}
	if reservedAlias(in.AliasName) {
		return "", reservedAliasError(op)
	}
	if err := checkLength(op, in.TargetKeyId, "targetKeyId", 1, 2048); err != nil {
		return "", err
	}
	a := s.rg.aliases[aliasID{account: caller, name: in.AliasName}]
	if a == nil {
		return "", s.notFoundAlias(op, s.aliasARN(caller, in.AliasName))
	}
	if err := s.authorizeIAM(op, "", s.aliasARN(caller, in.AliasName), s.iamContext(true)); err != nil { // spec §3.2 rule 7
		return "", err
	}
	k, arn, err := s.resolve(ctx, op, caller, in.TargetKeyId, "targetKeyId", idOnly)
	if err != nil {
		return "", err
	}
	if a.target != k {
		// Spec §3.2 rule 7: kms:UpdateAlias on the current key too.
		if err := s.authorize(ctx, op, caller, a.target, ""); err != nil {
			return arn, err
		}
	}
	if err := keystate.Check(op, k.state, k.kind, arn); err != nil { // footnote [10]: the destination
		return arn, err
	}
	if cur := a.target.kind; keyClass(cur.Spec) != keyClass(k.kind.Spec) || cur.Usage != k.kind.Usage {
		// AWS: "The current and new KMS key must be the same type (both
		// symmetric or both asymmetric or both HMAC), and they must have the
		// same key usage." The exception is not recorded; kmsmodel answers
		// ValidationException, in AWS's words.
		return arn, kmsError(keystate.ErrValidation, op, arn, k.state,
			"The current and new KMS key must be the same type (both symmetric or both asymmetric or both HMAC), and they must have the same key usage.")
	}
	na := *a
	na.target, na.updated = k, now
	if err := s.persist(&store.Batch{PutAliases: []store.Alias{s.aliasRecord(&na)}}); err != nil {
		return arn, internalError(op, arn, k.state, err)
	}
	prev := a.target
	s.rg.retargetAlias(a, na)
	if s.ec != nil {
		s.ecAliasChanged(op, a, prev, now)
	}
	return arn, nil
}

// keyClass is what UpdateAlias compares: symmetric, HMAC or asymmetric.
func keyClass(spec keystate.KeySpec) int {
	switch {
	case spec.IsSymmetric():
		return 0
	case spec.IsHMAC():
		return 1
	}
	return 2
}

// DeleteAlias deletes an alias. The key it points to is unaffected.
//
// Errors: ValidationException, NotFoundException, AccessDeniedException.
func (s *Service) DeleteAlias(ctx context.Context, in *DeleteAliasInput) (*DeleteAliasOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*DeleteAliasOutput, error) { return s.deleteAliasOnce(ctx, in) })
	}
	return s.deleteAliasOnce(ctx, in)
}

// deleteAliasOnce is one run of DeleteAlias (cluster mode may run it again).
func (s *Service) deleteAliasOnce(ctx context.Context, in *DeleteAliasInput) (res *DeleteAliasOutput, err error) {
	in = orEmpty(in)
	const op = keystate.DeleteAlias
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var arn string
	if err == nil {
		arn, err = s.deleteAlias(ctx, in, caller)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"aliasName": in.AliasName}, err)
	}
	if err != nil {
		return nil, err
	}
	return &DeleteAliasOutput{}, nil
}

func (s *Service) deleteAlias(ctx context.Context, in *DeleteAliasInput, caller string) (string, error) {
	const op = keystate.DeleteAlias
	if err := validateAliasName(op, in.AliasName); err != nil {
		return "", err
	}
	if reservedAlias(in.AliasName) {
		return "", reservedAliasError(op)
	}
	id := aliasID{account: caller, name: in.AliasName}
	a := s.rg.aliases[id]
	if a == nil {
		return "", s.notFoundAlias(op, s.aliasARN(caller, in.AliasName))
	}
	if err := s.authorizeIAM(op, "", s.aliasARN(caller, in.AliasName), s.iamContext(true)); err != nil { // spec §3.2 rule 7
		return "", err
	}
	k := a.target
	arn := s.arnOf(k)
	if err := s.authorize(ctx, op, caller, k, arn); err != nil {
		return arn, err
	}
	if err := keystate.Check(op, k.state, k.kind, arn); err != nil {
		return arn, err
	}
	if err := s.persist(&store.Batch{DeleteAliases: []store.AliasID{a.storeID()}}); err != nil {
		return arn, internalError(op, arn, k.state, err)
	}
	s.rg.removeAlias(id)
	return arn, nil
}

// ListAliases lists the caller's aliases, sorted by name, Limit (1–100,
// default 50) at a time; with KeyId (key ID or key ARN), only that key's.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, InvalidMarkerException.
func (s *Service) ListAliases(ctx context.Context, in *ListAliasesInput) (*ListAliasesOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ListAliasesOutput, error) { return s.listAliasesOnce(ctx, in) })
	}
	return s.listAliasesOnce(ctx, in)
}

// listAliasesOnce is one run of ListAliases (cluster mode may run it again).
func (s *Service) listAliasesOnce(ctx context.Context, in *ListAliasesInput) (res *ListAliasesOutput, err error) {
	const op = keystate.ListAliases
	if in == nil {
		in = &ListAliasesInput{}
	}
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var (
		out *ListAliasesOutput
		arn string
	)
	if err == nil {
		out, arn, err = s.listAliases(ctx, in, caller)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId, "marker": in.Marker}, err)
	}
	return out, err
}

// aliasEntry is ListAliases' entry for the alias name of caller: a (nil
// for a predefined name without a key, D72).
func (s *Service) aliasEntry(caller, name string, a *alias) AliasListEntry {
	if a == nil {
		return AliasListEntry{AliasArn: s.aliasARN(caller, name), AliasName: name}
	}
	created, updated := fromMicros(a.created), fromMicros(a.updated)
	return AliasListEntry{AliasArn: s.aliasARN(caller, name), AliasName: name,
		CreationDate: &created, LastUpdatedDate: &updated, TargetKeyId: a.target.id}
}

func (s *Service) listAliases(ctx context.Context, in *ListAliasesInput, caller string) (*ListAliasesOutput, string, error) {
	const op = keystate.ListAliases
	limit, err := pageLimit(op, in.Limit, 50, 100)
	if err == nil {
		err = validateMarker(op, in.Marker)
	}
	if err == nil && in.KeyId != "" {
		err = checkLength(op, in.KeyId, "keyId", 1, 2048)
	}
	if err == nil {
		err = s.authorizeIAM(op, "", "*", s.iamContext(false))
	}
	if err != nil {
		return nil, "", err
	}
	var (
		k   *key
		arn string
	)
	if in.KeyId != "" {
		if k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", idOnly); err != nil {
			return nil, "", err
		}
	}
	scope := "aliases/" + s.rg.name // aliases are per Region
	if k != nil {
		scope += "/" + k.id
	}
	var start uint64
	if in.Marker != "" {
		if start, err = decodeMarker(op, in.Marker, scope); err != nil {
			return nil, arn, err
		}
	}
	out := &ListAliasesOutput{Aliases: []AliasListEntry{}}
	if k != nil {
		// The key's aliases: its account's, as the key is the caller's.
		names := s.rg.aliasNames(k)
		pos := uint64(0)
		for _, name := range names {
			a := s.rg.aliases[aliasID{caller, name}]
			if a == nil || a.target != k {
				continue // another account's alias of the key: only a store can hold one
			}
			if pos++; pos <= start {
				continue
			}
			if len(out.Aliases) == limit {
				out.Truncated, out.NextMarker = true, encodeMarker(scope, pos-1)
				break
			}
			out.Aliases = append(out.Aliases, s.aliasEntry(caller, name, a))
		}
		return out, arn, nil
	}
	// The caller's aliases merged, in name order, with the predefined
	// alias/aws/ names AWS has not associated with a key yet (D72).
	own := s.rg.accountAliases(caller)
	var predefined []string
	if !s.cfg.noPredefinedAliases {
		for _, name := range predefinedAliases {
			if _, ok := s.rg.aliases[aliasID{caller, name}]; !ok {
				predefined = append(predefined, name)
			}
		}
	}
	i, j := 0, 0
	for pos := uint64(0); i < len(own) || j < len(predefined); pos++ {
		var name string
		var a *alias
		if j == len(predefined) || i < len(own) && own[i].name < predefined[j] {
			name, a = own[i].name, own[i]
			i++
		} else {
			name = predefined[j]
			j++
		}
		if pos < start {
			continue
		}
		if len(out.Aliases) == limit {
			out.Truncated, out.NextMarker = true, encodeMarker(scope, pos)
			break
		}
		out.Aliases = append(out.Aliases, s.aliasEntry(caller, name, a))
	}
	return out, arn, nil
}
