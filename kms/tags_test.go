package kms_test

// Tests of tags: TagResource, UntagResource, ListResourceTags and CreateKey's
// Tags (decision D19's tag rules, real-aws-recordings.md row 10c, key-state
// table a.2).

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

func fxTags(n int, prefix string) []kms.Tag {
	out := make([]kms.Tag, n)
	for i := range out {
		out[i] = kms.Tag{TagKey: fmt.Sprintf("%s%02d", prefix, i), TagValue: fmt.Sprint(i)}
	}
	return out
}

// tags lists every tag of a key (all pages).
func (e *fxEnv) tags(id string, limit int32) []kms.Tag {
	e.t.Helper()
	var all []kms.Tag
	marker := ""
	for {
		in := &kms.ListResourceTagsInput{KeyId: id, Marker: marker}
		if limit != 0 {
			in.Limit = kms.Int32(limit)
		}
		out, err := e.s.ListResourceTags(e.ctx, in)
		if err != nil {
			e.t.Fatalf("ListResourceTags(%s): %v", id, err)
		}
		if limit != 0 && len(out.Tags) > int(limit) {
			e.t.Fatalf("page of %d tags, Limit %d", len(out.Tags), limit)
		}
		all = append(all, out.Tags...)
		if !out.Truncated {
			if out.NextMarker != "" {
				e.t.Fatalf("NextMarker %q on a page that is not truncated", out.NextMarker)
			}
			return all
		}
		marker = out.NextMarker
	}
}

func fxTagString(ts []kms.Tag) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.TagKey + "=" + t.TagValue + ";")
	}
	return b.String()
}

// Tags in CreateKey, TagResource (add and replace), UntagResource (absent
// keys ignored), in the order first added.
func TestTagsLifecycle(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "env", TagValue: "prod"}, {TagKey: "team", TagValue: ""}}})
	id := m.KeyId
	if got := fxTagString(e.tags(id, 0)); got != "env=prod;team=;" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: m.Arn,
		Tags: []kms.Tag{{TagKey: "env", TagValue: "dev"}, {TagKey: "owner", TagValue: "fx"}}}); err != nil {
		t.Fatal(err)
	}
	if got := fxTagString(e.tags(id, 0)); got != "env=dev;team=;owner=fx;" {
		t.Fatalf("tags after TagResource = %s", got)
	}
	if _, err := e.s.UntagResource(e.ctx, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := fxTagString(e.tags(id, 0)); got != "env=dev;owner=fx;" {
		t.Fatalf("tags after UntagResource = %s", got)
	}
	// Tags are case-sensitive: "Env" is another key.
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "Env", TagValue: "x"}}}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tags(id, 0)); n != 3 {
		t.Fatalf("%d tags, want 3", n)
	}
	// Tag operations work on a Disabled key (table a.2 ✓).
	e.disable(id)
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "d", TagValue: "1"}}}); err != nil {
		t.Fatalf("TagResource on a Disabled key: %v", err)
	}
	if _, err := e.s.UntagResource(e.ctx, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"d"}}); err != nil {
		t.Fatalf("UntagResource on a Disabled key: %v", err)
	}
}

// D19 / row 10c: TagException "Duplicate tag keys", on CreateKey and
// TagResource; nothing changes.
func TestTagsDuplicateKeys(t *testing.T) {
	e := fxNew(t)
	dup := []kms.Tag{{TagKey: "a", TagValue: "1"}, {TagKey: "b"}, {TagKey: "a", TagValue: "2"}}
	_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: dup})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.CreateKey, Msg: "Duplicate tag keys"})
	if keys, _ := e.s.ListKeys(e.ctx, nil); len(keys.Keys) != 0 {
		t.Fatalf("a refused CreateKey created %d keys", len(keys.Keys))
	}
	id, _ := e.symmetric()
	before := e.snapshot(id)
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: dup})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.TagResource, Msg: "Duplicate tag keys"})
	e.unchanged(id, before)
}

// D19 / row 10c: TagException "Too many tags" past 50, counting the tags
// the key already has; replacing a value does not add a tag.
func TestTagsTooMany(t *testing.T) {
	e := fxNew(t)
	_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: fxTags(51, "k")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.CreateKey, Msg: "Too many tags"})

	id, _ := e.symmetric()
	before := e.snapshot(id)
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: fxTags(51, "k")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.TagResource, Msg: "Too many tags"})
	e.unchanged(id, before)

	m := e.create(&kms.CreateKeyInput{Tags: fxTags(50, "k")}) // exactly 50 is allowed
	if n := len(e.tags(m.KeyId, 0)); n != 50 {
		t.Fatalf("%d tags, want 50", n)
	}
	before = e.snapshot(m.KeyId)
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: m.KeyId, Tags: []kms.Tag{{TagKey: "one-more"}}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.TagResource, KeyID: m.Arn, State: keystate.Enabled, Msg: "Too many tags"})
	// A merge of 30 existing and 21 new tags is 51 too.
	e.unchanged(m.KeyId, before)
	k30 := e.create(&kms.CreateKeyInput{Tags: fxTags(30, "k")})
	before = e.snapshot(k30.KeyId)
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: k30.KeyId, Tags: fxTags(21, "n")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.TagResource, KeyID: k30.Arn, State: keystate.Enabled, Msg: "Too many tags"})
	e.unchanged(k30.KeyId, before)

	// Replacing values of existing tags keeps the count at 50.
	repl := fxTags(50, "k")
	for i := range repl {
		repl[i].TagValue = "new"
	}
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: m.KeyId, Tags: repl}); err != nil {
		t.Fatalf("replacing 50 values: %v", err)
	}
	if got := e.tags(m.KeyId, 0); len(got) != 50 || got[49].TagValue != "new" {
		t.Fatalf("after replacement: %d tags, last %+v", len(got), got[len(got)-1])
	}
}

// D19 / row 10c: tag keys beginning with aws: (any case, also AWS:) are
// reserved → TagException "Tags beginning with aws: are reserved".
func TestTagsReservedPrefix(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, k := range []string{"aws:x", "AWS:x", "Aws:cloudformation:stack", "aws:"} {
		_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: k, TagValue: "v"}}})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.CreateKey, Msg: "Tags beginning with aws: are reserved"})
		_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "ok"}, {TagKey: k}}})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrTag, Op: keystate.TagResource, Msg: "Tags beginning with aws: are reserved"})
	}
	e.unchanged(id, before)
	// "aws" without the colon, or inside the key, is an ordinary key.
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "aws"}, {TagKey: "x-aws:y"}}}); err != nil {
		t.Fatal(err)
	}
}

// D19 / row 10c: a 129-character tag key or a 257-character tag value →
// ValidationException "1 validation error detected: Value '…' at
// 'tags.1.member.tagKey' failed to satisfy constraint: Member must have
// length less than or equal to 128" (256 for tagValue); 128 and 256 are
// allowed; an empty key is too short.
func TestTagsLengths(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	k129, v257 := strings.Repeat("k", 129), strings.Repeat("v", 257)
	cases := []struct {
		tag kms.Tag
		msg string
	}{
		{kms.Tag{TagKey: k129}, fxValidation(k129, "tags.1.member.tagKey", "Member must have length less than or equal to 128")},
		{kms.Tag{TagKey: "k", TagValue: v257}, fxValidation(v257, "tags.1.member.tagValue", "Member must have length less than or equal to 256")},
		{kms.Tag{TagKey: ""}, fxValidation("", "tags.1.member.tagKey", "Member must have length greater than or equal to 1")},
	}
	for _, c := range cases {
		_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: []kms.Tag{c.tag}})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey, Msg: c.msg})
		_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{c.tag}})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.TagResource, Msg: c.msg})
	}
	// The second tag is tags.2 (the member index counts from 1).
	_, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "ok"}, {TagKey: k129}}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.TagResource,
		Msg: fxValidation(k129, "tags.2.member.tagKey", "Member must have length less than or equal to 128")})
	// Validation comes before the TagException rules (D3 step 1).
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "aws:x"}, {TagKey: k129}}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.TagResource,
		Msg: fxValidation(k129, "tags.2.member.tagKey", "Member must have length less than or equal to 128")})
	e.unchanged(id, before)

	k128, v256 := strings.Repeat("k", 128), strings.Repeat("v", 256)
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: k128, TagValue: v256}}}); err != nil {
		t.Fatalf("128/256 characters: %v", err)
	}
}

// ListResourceTags pages, Limit 1–50 (default 50); markers are per key.
func TestTagsListPaging(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{Tags: fxTags(50, "k")})
	want := fxTagString(fxTags(50, "k"))
	for _, lim := range []int32{0, 1, 7, 49, 50} {
		if got := fxTagString(e.tags(m.KeyId, lim)); got != want {
			t.Fatalf("Limit %d: %s", lim, got)
		}
	}
	page, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: m.KeyId, Limit: kms.Int32(10)})
	if err != nil || len(page.Tags) != 10 || !page.Truncated {
		t.Fatalf("page = %+v, %v", page, err)
	}
	other := e.create(&kms.CreateKeyInput{Tags: fxTags(20, "o")})
	before := e.snapshot(other.KeyId)
	for _, marker := range []string{page.NextMarker, "garbage"} {
		_, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: other.KeyId, Marker: marker})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListResourceTags, AnyMsg: true})
	}
	for _, lim := range []int32{0, 51} {
		c := "Member must have value greater than or equal to 1"
		if lim > 0 {
			c = "Member must have value less than or equal to 50"
		}
		_, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: other.KeyId, Limit: kms.Int32(lim)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListResourceTags, Msg: fxValidation(fmt.Sprint(lim), "limit", c)})
	}
	e.unchanged(other.KeyId, before)
}

// Key-state table a.2: TagResource and UntagResource ✗[3] on a
// pending-deletion key (KMSInvalidStateException "<ARN> is pending
// deletion."); ListResourceTags ✓.
func TestTagsPendingDeletion(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "a", TagValue: "1"}}})
	id, arn := m.KeyId, m.Arn
	e.scheduleDeletion(id, 7)
	before := e.snapshot(id)
	_, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "b", TagValue: "2"}}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.TagResource, KeyID: arn,
		State: keystate.PendingDeletion, Msg: arn + " is pending deletion."})
	_, err = e.s.UntagResource(e.ctx, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"a"}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.UntagResource, KeyID: arn,
		State: keystate.PendingDeletion, Msg: arn + " is pending deletion."})
	e.unchanged(id, before)
	if got := fxTagString(e.tags(id, 0)); got != "a=1;" {
		t.Fatalf("ListResourceTags on a pending-deletion key = %s", got)
	}
	// After CancelKeyDeletion the key (Disabled) takes tags again.
	e.cancelDeletion(id)
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "b"}}}); err != nil {
		t.Fatal(err)
	}
}
