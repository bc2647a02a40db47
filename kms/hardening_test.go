package kms_test

// Regression tests of issue 12 ("Hardening"): alias characters (decision
// D22), TagResource with an empty Tags list (D23), and the Regions a
// service serves.

import (
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Decision D22: after "alias/", only letters, digits, '/', '_' and '-'. The
// API model's pattern (which admits ':') is checked first, so '!', '$' and
// '@' keep its message; ':' passes it and is refused by the developer
// guide's rule. Both come before the alias/aws/ reservation and before any
// key or alias is looked up.
func TestDecisionD22AliasCharacters(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.createAlias("alias/fx-current", id)
	pattern := func(name string) string {
		return "1 validation error detected: Value '" + name + "' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
	}
	chars := func(name string) string { return name + " contains invalid characters for an alias" }
	cases := []struct {
		name, msg string
	}{
		{"alias/my:alias", chars("alias/my:alias")},
		{"alias/:", chars("alias/:")},
		{"alias/aws/my:alias", chars("alias/aws/my:alias")}, // before the reservation
		{"alias/my!alias", pattern("alias/my!alias")},
		{"alias/my$alias", pattern("alias/my$alias")},
		{"alias/my@alias", pattern("alias/my@alias")},
	}
	for _, c := range cases {
		// CreateAlias: even with a target that does not exist, the name is
		// refused first.
		for _, target := range []string{id, fxMissingID} {
			_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: c.name, TargetKeyId: target})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateAlias, Msg: c.msg})
		}
		// UpdateAlias: refused before the alias is looked up.
		_, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: c.name, TargetKeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.UpdateAlias, Msg: c.msg})
	}
	if got := fxAliasNames(e.aliases("", 0)); len(got) != 1 || got[0] != "alias/fx-current" {
		t.Fatalf("aliases after the refusals: %v", got)
	}
	// DeleteAlias keeps only the model's pattern, so that an alias kept
	// from before D22 can be deleted: here there is none.
	_, err := e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: "alias/my:alias"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DeleteAlias, KeyID: fxAliasARN("alias/my:alias"), AnyMsg: true})
	// The allowed characters still are.
	e.createAlias("alias/Fx_0/a-b", id)
}

// Decision D23: TagResource with an empty Tags list is a valid no-op after
// the usual key checks, as UntagResource with no tag keys is. An unknown
// key is NotFoundException; a key whose state refuses tagging refuses the
// empty list the same way it refuses a tag.
func TestDecisionD23TagResourceEmptyTags(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "payments"}}})
	for _, tags := range [][]kms.Tag{{}, nil} {
		before := e.snapshot(m.KeyId)
		if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: m.Arn, Tags: tags}); err != nil {
			t.Fatalf("TagResource(%v) = %v, want success", tags, err)
		}
		e.unchanged(m.KeyId, before)
	}
	// The key is still looked up: an unknown one is NotFoundException, not
	// ValidationException.
	missing := fxARN(fxMissingID)
	_, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: fxMissingID, Tags: []kms.Tag{}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.TagResource, KeyID: missing, Msg: fxNotExist(missing)})
	// Another account's key, by ARN: what a tag gets, the empty list gets.
	_, want := e.s.TagResource(e.as(fxOther), &kms.TagResourceInput{KeyId: m.Arn, Tags: []kms.Tag{{TagKey: "k"}}})
	_, err = e.s.TagResource(e.as(fxOther), &kms.TagResourceInput{KeyId: m.Arn, Tags: []kms.Tag{}})
	if want == nil || err == nil || err.Error() != want.Error() {
		t.Fatalf("another account, empty Tags: %v; with a tag: %v", err, want)
	}
	// A key pending deletion: the same answer as for a tag.
	id, _ := e.symmetric()
	e.scheduleDeletion(id, 7)
	_, want = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "k"}}})
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{}})
	if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
		t.Fatalf("pending deletion, empty Tags: %v; with a tag: %v", err, want)
	}
	// Validation still comes first when there are tags to validate.
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: fxMissingID, Tags: []kms.Tag{{TagKey: ""}}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.TagResource, AnyMsg: true})
}
