package kms_test

// Regression tests of issue 12 ("Hardening"): alias characters (decision
// D22), TagResource with an empty Tags list (D23), and the Regions a
// service serves.

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// Issue 12, item 9: reads signed for made-up Region names used to add a
// Region each, and after 254 of them a CreateKey in a real Region was
// refused. Made-up names are refused now, and no read adds a Region.
func TestRegionsMadeUpReadsLeaveRealRegionsServed(t *testing.T) {
	e := fxNew(t)
	var errs []error
	for i := range 300 {
		ctx := kms.WithCallerRegion(e.as(fxOther), fmt.Sprintf("zz-made-up-%d", i))
		_, err := e.s.ListKeys(ctx, &kms.ListKeysInput{})
		errs = append(errs, err)
	}
	ctx := kms.WithCallerRegion(e.ctx, "eu-west-1")
	out, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey in eu-west-1 after the made-up reads: %v", err)
	}
	for i, err := range errs {
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeys,
			Msg: fmt.Sprintf("'zz-made-up-%d' is not a Region this service can serve.", i)})
	}
	if want := "arn:aws:kms:eu-west-1:" + fxAccount + ":key/" + out.KeyMetadata.KeyId; out.KeyMetadata.Arn != want {
		t.Fatalf("Arn %s, want %s", out.KeyMetadata.Arn, want)
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion, "eu-west-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
}

// Item 9: the Regions a service serves are its default Region, the AWS
// Regions of the AWS SDK's partitions and those named with WithRegions;
// a call that only reads sees a Region without state as empty and does
// not add it, so reads cannot use up the 255 places.
func TestRegionsReadsDoNotAddRegions(t *testing.T) {
	var extra []string
	for i := range 300 {
		extra = append(extra, fmt.Sprintf("zz-flagged-%d", i))
	}
	e := fxNew(t, kms.WithRegions(extra...))
	id, _ := e.symmetric()
	in := func(region string) *fxEnv {
		c := *e
		c.ctx = kms.WithCallerRegion(e.as(fxOther), region)
		return &c
	}
	// Every read, in every allowed Region without state: empty answers.
	for _, region := range append(slices.Clone(extra), "eu-west-1", "cn-north-1", "us-gov-east-1", "us-isob-east-1", "eusc-de-east-1") {
		r := in(region)
		arn := "arn:" + kms.PartitionOf(region) + ":kms:" + region + ":" + fxOther + ":key/" + id
		_, err := r.s.DescribeKey(r.ctx, &kms.DescribeKeyInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: arn, Msg: fxNotExist(arn)})
		_, err = r.s.GetKeyRotationStatus(r.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyRotationStatus, KeyID: arn, Msg: fxNotExist(arn)})
		_, err = r.s.DescribeKey(r.ctx, &kms.DescribeKeyInput{KeyId: "alias/mine"})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: "arn:" + kms.PartitionOf(region) + ":kms:" + region + ":" + fxOther + ":alias/mine", AnyMsg: true})
		if out, err := r.s.ListKeys(r.ctx, &kms.ListKeysInput{}); err != nil || len(out.Keys) != 0 {
			t.Fatalf("ListKeys in %s: %+v, %v", region, out, err)
		}
		if out, err := r.s.ListAliases(r.ctx, &kms.ListAliasesInput{}); err != nil || len(fxOwnAliases(out.Aliases)) != 0 {
			t.Fatalf("ListAliases in %s: %+v, %v", region, out, err)
		}
		if out, err := r.s.DescribeCustomKeyStores(r.ctx, &kms.DescribeCustomKeyStoresInput{}); err != nil || len(out.CustomKeyStores) != 0 {
			t.Fatalf("DescribeCustomKeyStores in %s: %+v, %v", region, out, err)
		}
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion}) {
		t.Fatalf("Regions() after reads = %v, want only %s", got, fxRegion)
	}
	// A refused name stays refused, a flagged one takes a key.
	_, err := e.s.CreateKey(kms.WithCallerRegion(e.ctx, "zz-unflagged-1"), &kms.CreateKeyInput{})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey,
		Msg: "'zz-unflagged-1' is not a Region this service can serve."})
	if _, err := e.s.CreateKey(in(extra[0]).ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("CreateKey in the flagged %s: %v", extra[0], err)
	}
	// The first use of an AWS managed alias creates its key: that adds
	// the Region.
	if _, err := e.s.DescribeKey(in("ap-south-1").ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/s3"}); err != nil {
		t.Fatalf("DescribeKey alias/aws/s3 in ap-south-1: %v", err)
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion, extra[0], "ap-south-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
	// Only creations use up places: the 255th Region is refused, and
	// reads elsewhere still answer.
	for i := 1; ; i++ {
		_, err := e.s.CreateKey(in(extra[i]).ctx, &kms.CreateKeyInput{})
		if len(e.s.Regions()) < 255 {
			if err != nil {
				t.Fatalf("CreateKey in %s with %d Regions: %v", extra[i], len(e.s.Regions()), err)
			}
			continue
		}
		if err == nil {
			_, err = e.s.CreateKey(in(extra[i+1]).ctx, &kms.CreateKeyInput{})
		}
		fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.CreateKey, Msg: "kmsmodel serves at most 255 Regions."})
		break
	}
	if out, err := e.s.ListKeys(in("sa-east-1").ctx, &kms.ListKeysInput{}); err != nil || len(out.Keys) != 0 {
		t.Fatalf("ListKeys in sa-east-1 with every place taken: %+v, %v", out, err)
	}
	if _, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("CreateKey in the default Region with every place taken: %v", err)
	}
}

// TestRegionsRefusedCreationGivesBackItsRegion: a CreateKey or
// CreateCustomKeyStore refused in a Region without state (bad input, a
// denied call) gives back the place it took for its Region, as a service
// loaded from its store would not serve that Region either; one that
// succeeds keeps it. Before, the Region stayed served and empty, in
// Regions() and against the 255 places.
func TestRegionsRefusedCreationGivesBackItsRegion(t *testing.T) {
	e := fxNew(t)
	in := func(region string) context.Context { return kms.WithCallerRegion(e.ctx, region) }
	_, err := e.s.CreateKey(in("eu-west-3"), &kms.CreateKeyInput{KeySpec: "NOT_A_SPEC"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey, AnyMsg: true})
	_, err = e.s.CreateCustomKeyStore(in("ap-south-2"), &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateCustomKeyStore, AnyMsg: true})
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion}) {
		t.Fatalf("Regions() after refused creations = %v, want only %s", got, fxRegion)
	}
	if _, err := e.s.ListKeys(in("eu-west-3"), &kms.ListKeysInput{}); err != nil {
		t.Fatalf("ListKeys in eu-west-3 after the refusal: %v", err)
	}
	out, err := e.s.CreateKey(in("eu-west-3"), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey in eu-west-3 after the refusal: %v", err)
	}
	if !strings.HasPrefix(out.KeyMetadata.Arn, "arn:aws:kms:eu-west-3:") {
		t.Errorf("Arn %s", out.KeyMetadata.Arn)
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion, "eu-west-3"}) {
		t.Fatalf("Regions() = %v, want %s and eu-west-3", got, fxRegion)
	}
}

// Item 9: a name given to WithRegions is taken as given, like WithRegion's,
// even when it is not of the AWS form.
func TestRegionsWithRegionsAnyForm(t *testing.T) {
	e := fxNew(t, kms.WithRegions("local-2"))
	ctx := kms.WithCallerRegion(e.ctx, "local-2")
	out, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey in local-2: %v", err)
	}
	if want := "arn:aws:kms:local-2:" + fxAccount + ":key/" + out.KeyMetadata.KeyId; out.KeyMetadata.Arn != want {
		t.Fatalf("Arn %s, want %s", out.KeyMetadata.Arn, want)
	}
}

// Item 9: ReplicaRegion must also be a Region the service serves.
func TestRegionsReplicaRegionServed(t *testing.T) {
	e := fxNew(t, kms.WithRegions("zz-flagged-1"))
	m := e.create(&kms.CreateKeyInput{MultiRegion: true})
	_, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: m.KeyId, ReplicaRegion: "zz-unflagged-1"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ReplicateKey,
		Msg: "'zz-unflagged-1' is not a Region this service can serve."})
	for _, to := range []string{"zz-flagged-1", "eu-west-1"} {
		if _, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: m.KeyId, ReplicaRegion: to}); err != nil {
			t.Fatalf("ReplicateKey to %s: %v", to, err)
		}
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion, "zz-flagged-1", "eu-west-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
}

// Item 9: the table of known Regions covers the partitions the AWS SDK
// lists, and the service's own and flagged Regions are allowed.
func TestRegionsAllowed(t *testing.T) {
	s := kms.New(kms.WithRegion("local"), kms.WithRegions("zz-flagged-1"))
	for name, want := range map[string]bool{
		"us-east-1": true, "eu-west-3": true, "ap-southeast-7": true, "mx-central-1": true, // aws
		"cn-north-1": true, "cn-northwest-1": true, // aws-cn
		"us-gov-west-1": true, "us-gov-east-1": true, // aws-us-gov
		"us-iso-east-1": true, "us-isob-east-1": true, "eu-isoe-west-1": true, "us-isof-south-1": true, // aws-iso*
		"eusc-de-east-1": true,                       // aws-eusc
		"local":          true, "zz-flagged-1": true, // WithRegion, WithRegions
		"aws-global": false, "us-east-9": false, "zz-made-up-1": false, "Mars": false, "": false,
	} {
		if got := s.AllowsRegion(name); got != want {
			t.Errorf("AllowsRegion(%q) = %v, want %v", name, got, want)
		}
		if name != "local" && name != "zz-flagged-1" && kms.KnownRegion(name) != want {
			t.Errorf("KnownRegion(%q) = %v, want %v", name, !want, want)
		}
	}
}
