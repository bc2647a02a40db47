package kms_test

// Tests of the seed's rotation rules: aws-kms-behaviour.md c.1–c.7, under
// the project decisions that pin them down (D1, D2, D8, D9, D10, D14, D16).

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// c.1 "This works whether or not automatic rotation is enabled"; recording
// row 7b (rotation off: GetKeyRotationStatus has only KeyId and
// KeyRotationEnabled) and row 3j (CurrentKeyMaterialId changes).
func TestSeedRotateOnDemandWithAutomaticRotationOff(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	before := e.describe(id).CurrentKeyMaterialId
	e.advance(time.Hour)
	at := e.now()

	out, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyId != arn {
		t.Errorf("KeyId = %q, want the key ARN %q (recording 3j)", out.KeyId, arn)
	}
	e.wantRots(id, fxOnDemand(at))

	st := e.status(id)
	if st.KeyId != arn || st.KeyRotationEnabled || st.RotationPeriodInDays != nil ||
		st.NextRotationDate != nil || st.OnDemandRotationStartDate != nil {
		t.Errorf("GetKeyRotationStatus = %+v, want only KeyId %s and KeyRotationEnabled false (row 7b, D20)", st, arn)
	}
	if after := e.describe(id).CurrentKeyMaterialId; after == before || len(after) != 64 {
		t.Errorf("CurrentKeyMaterialId %q → %q, want a new 64-hex id (row 3j)", before, after)
	}
}

// c.1 (works with automatic rotation on) and "Effect on automatic rotation:
// none"; recording row 7c: NextRotationDate is unchanged by an on-demand
// rotation, and the response carries RotationPeriodInDays 365.
func TestSeedRotateOnDemandWithAutomaticRotationOn(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.enableRotation(id, 0)
	st := e.status(id)
	if !st.KeyRotationEnabled || st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 365 {
		t.Fatalf("after EnableKeyRotation: %+v, want enabled with period 365", st)
	}
	next := *st.NextRotationDate
	if !next.Equal(fxT0.Add(365 * fxDay)) {
		t.Fatalf("NextRotationDate = %v, want %v (c.2: one period after enable)", next, fxT0.Add(365*fxDay))
	}

	e.advance(30 * fxDay)
	at := e.now()
	out, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyId != arn {
		t.Errorf("KeyId = %q, want %q", out.KeyId, arn)
	}
	st = e.status(id)
	if st.KeyId != arn || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 365 || !st.NextRotationDate.Equal(next) ||
		st.OnDemandRotationStartDate != nil {
		t.Errorf("after the on-demand rotation: %+v, want enabled, 365, NextRotationDate %v unchanged (row 7c)", st, next)
	}
	e.wantRots(id, fxOnDemand(at))

	// The automatic schedule runs as before: one rotation at `next`.
	e.setClock(next)
	e.s.Sweep()
	e.wantRots(id, fxOnDemand(at), fxAuto(next))
}

// c.1 "Quota", decision D1 (10 per key by default, ON_DEMAND only, the call
// that would exceed it changes nothing) and D19 / recording row 3i (the
// message).
func TestSeedOnDemandQuotaDefault(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	var want []fxRot
	for range kms.DefaultOnDemandRotationQuota {
		e.advance(time.Minute)
		e.rotate(id)
		want = append(want, fxOnDemand(e.now()))
	}
	if kms.DefaultOnDemandRotationQuota != 10 {
		t.Fatalf("DefaultOnDemandRotationQuota = %d, want 10 (D1)", kms.DefaultOnDemandRotationQuota)
	}
	e.advance(time.Minute)
	before := e.snapshot(id)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})
	e.unchanged(id, before)
	e.wantRots(id, want...)

	// The quota is over the key's life: a year later it is still spent.
	e.advance(365 * fxDay)
	_, err = e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: fxARN(id)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})

	// Another key has its own quota.
	id2, _ := e.symmetric()
	e.rotate(id2)
}

// Decision D1: only ON_DEMAND rotations count against the quota; automatic
// rotations do not.
func TestSeedOnDemandQuotaCountsOnlyOnDemand(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	e.advance(5 * 365 * fxDay) // 20 automatic rotations
	e.s.Sweep()
	if n := len(e.rotations(id)); n != 20 {
		t.Fatalf("%d automatic rotations in five years of 90-day periods, want 20", n)
	}
	for range 10 {
		e.advance(time.Hour)
		e.rotate(id)
	}
	e.advance(time.Hour)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})
}

// Decision D1: the quota is configurable; current AWS allows 25 (c.1).
func TestSeedOnDemandQuotaConfigurable(t *testing.T) {
	e := fxNew(t, kms.WithOnDemandRotationQuota(25))
	id, arn := e.symmetric()
	for range 25 {
		e.advance(time.Second)
		e.rotate(id)
	}
	before := e.snapshot(id)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})
	e.unchanged(id, before)
	if n := len(e.rotations(id)); n != 25 {
		t.Fatalf("%d rotations, want 25", n)
	}
}

// c.1 "Scope": asymmetric and HMAC keys cannot be rotated on demand
// (decision D8), with an EMPTY message for an asymmetric key (D19,
// recording row 3a). An EXTERNAL key is born PendingImport, where the state
// check comes first (D3, recording row 3e: "… is pending import."); D2's
// UnsupportedOperationException for an Enabled EXTERNAL key cannot be
// reached until key material import is modelled.
func TestSeedRotateOnDemandUnsupportedKinds(t *testing.T) {
	cases := []struct {
		name        string
		spec, usage string
		origin      string
		want        func(arn string) fxWant
	}{
		{"RSA_2048", "RSA_2048", "ENCRYPT_DECRYPT", "", func(arn string) fxWant {
			return fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, Msg: ""} // recorded: empty message
		}},
		{"RSA_4096 sign", "RSA_4096", "SIGN_VERIFY", "", func(arn string) fxWant {
			return fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, Msg: ""}
		}},
		{"ECC_NIST_P256", "ECC_NIST_P256", "SIGN_VERIFY", "", func(arn string) fxWant {
			return fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, Msg: ""}
		}},
		{"HMAC_256", "HMAC_256", "GENERATE_VERIFY_MAC", "", func(arn string) fxWant {
			// No recording (row 3b): the message is not checked.
			return fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, AnyMsg: true}
		}},
		{"EXTERNAL", "", "", "EXTERNAL", func(arn string) fxWant {
			return fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.PendingImport, Msg: arn + " is pending import."}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := fxNew(t)
			m := e.create(&kms.CreateKeyInput{KeySpec: c.spec, KeyUsage: c.usage, Origin: c.origin})
			before := e.snapshot(m.KeyId)
			_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: m.KeyId})
			fxCheckErr(t, err, c.want(m.Arn))
			if c.name == "RSA_2048" && err.Error() != "UnsupportedOperationException" {
				t.Errorf("Error() = %q, want the bare exception name for an empty message", err.Error())
			}
			e.unchanged(m.KeyId, before)
		})
	}
}

// c.2/c.3 and decision D8: EnableKeyRotation and DisableKeyRotation on an
// asymmetric or HMAC key → UnsupportedOperationException; on an EXTERNAL key
// (PendingImport) ✗[6] with footnote [6]'s message. c.4 and D8:
// GetKeyRotationStatus on an asymmetric or HMAC key reports false; on an
// EXTERNAL key in PendingImport it is ✗[6].
func TestSeedAutomaticRotationUnsupportedKinds(t *testing.T) {
	for _, c := range []struct{ spec, usage string }{
		{"RSA_2048", "ENCRYPT_DECRYPT"}, {"ECC_NIST_P384", "SIGN_VERIFY"}, {"HMAC_256", "GENERATE_VERIFY_MAC"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			e := fxNew(t)
			id, arn := e.kindKey(c.spec, c.usage)
			before := e.snapshot(id)
			_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.EnableKeyRotation,
				KeyID: arn, State: keystate.Enabled, AnyMsg: true})
			_, err = e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.DisableKeyRotation,
				KeyID: arn, State: keystate.Enabled, AnyMsg: true})
			e.unchanged(id, before)
			st := e.status(id)
			if st.KeyId != arn || st.KeyRotationEnabled || st.RotationPeriodInDays != nil || st.NextRotationDate != nil {
				t.Errorf("GetKeyRotationStatus = %+v, want KeyRotationEnabled false only (D8)", st)
			}
		})
	}
	t.Run("EXTERNAL", func(t *testing.T) {
		e := fxNew(t)
		id, arn := e.external()
		before := e.snapshot(id)
		msg := arn + " origin is EXTERNAL which is not valid for this operation." // footnote [6]
		_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.EnableKeyRotation,
			KeyID: arn, State: keystate.PendingImport, Msg: msg})
		_, err = e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.DisableKeyRotation,
			KeyID: arn, State: keystate.PendingImport, Msg: msg})
		_, err = e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GetKeyRotationStatus,
			KeyID: arn, State: keystate.PendingImport, Msg: msg})
		e.unchanged(id, before)
	})
}

// c.1 "Multi-Region keys: call it on the primary only": a multi-Region
// primary (an mrk- key, e.3) rotates on demand and automatically.
func TestSeedMultiRegionPrimaryRotates(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{MultiRegion: true})
	if !regexp.MustCompile(`^mrk-[0-9a-f]{32}$`).MatchString(m.KeyId) {
		t.Fatalf("multi-Region KeyId = %q, want mrk- and 32 hex digits (e.3)", m.KeyId)
	}
	if !m.MultiRegion || m.Arn != fxARN(m.KeyId) {
		t.Fatalf("metadata = %+v, want MultiRegion true and ARN %s", m, fxARN(m.KeyId))
	}
	out, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: m.KeyId})
	if err != nil {
		t.Fatalf("RotateKeyOnDemand on a multi-Region primary: %v", err)
	}
	if out.KeyId != m.Arn {
		t.Errorf("KeyId = %q, want %q", out.KeyId, m.Arn)
	}
	e.enableRotation(m.KeyId, 90)
	e.advance(90 * fxDay)
	e.wantRots(m.KeyId, fxOnDemand(fxT0), fxAuto(fxT0.Add(90*fxDay)))
}

// c.1 "Effect on automatic rotation: none", AWS's own example: period 730,
// automatic rotation due 14 Apr 2024, on-demand rotation on 10 Apr 2024 →
// the key still rotates on 14 Apr 2024 and every 730 days after.
func TestSeed730DayExample(t *testing.T) {
	due := time.Date(2024, 4, 14, 0, 0, 0, 0, time.UTC)
	enabledAt := due.Add(-730 * fxDay)
	e := fxNewAt(t, enabledAt)
	id, _ := e.symmetric()
	e.enableRotation(id, 730)
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, due)

	onDemand := time.Date(2024, 4, 10, 0, 0, 0, 0, time.UTC)
	e.setClock(onDemand)
	e.rotate(id)
	fxTimeEq(t, "NextRotationDate after the on-demand rotation", e.status(id).NextRotationDate, due)

	e.setClock(time.Date(2030, 4, 20, 0, 0, 0, 0, time.UTC)) // about six years later
	e.s.Sweep()
	e.wantRots(id,
		fxOnDemand(onDemand),
		fxAuto(due),                  // 2024-04-14
		fxAuto(due.Add(730*fxDay)),   // 2026-04-14
		fxAuto(due.Add(2*730*fxDay)), // 2028-04-13 (2028 is a leap year)
		fxAuto(due.Add(3*730*fxDay)), // 2030-04-13
	)
	if got := due.Add(730 * fxDay); !got.Equal(time.Date(2026, 4, 14, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("fixture: 730 days after 2024-04-14 is %v", got)
	}
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, due.Add(4*730*fxDay))
}

// c.1 "Asynchronous" and decision D10: while an on-demand rotation runs,
// GetKeyRotationStatus shows OnDemandRotationStartDate and ListKeyRotations
// does not list it; at completion the field disappears and the rotation is
// listed with its completion date. CurrentKeyMaterialId changes only then
// (row 3j).
func TestSeedOnDemandRotationInProgress(t *testing.T) {
	const d = 10 * time.Minute
	e := fxNew(t, kms.WithOnDemandRotationDuration(d))
	id, arn := e.symmetric()
	material := e.describe(id).CurrentKeyMaterialId
	start := e.advance(time.Hour)
	out, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	if err != nil || out.KeyId != arn {
		t.Fatalf("RotateKeyOnDemand = %+v, %v", out, err)
	}
	check := func(running bool) {
		t.Helper()
		st := e.status(id)
		if running {
			fxTimeEq(t, "OnDemandRotationStartDate", st.OnDemandRotationStartDate, start)
			if n := len(e.rotations(id)); n != 0 {
				t.Fatalf("ListKeyRotations lists %d rotations while the on-demand rotation runs, want 0 (D10)", n)
			}
			if m := e.describe(id).CurrentKeyMaterialId; m != material {
				t.Fatalf("CurrentKeyMaterialId changed before the rotation completed")
			}
			return
		}
		if st.OnDemandRotationStartDate != nil {
			t.Fatalf("OnDemandRotationStartDate = %v after completion, want absent", *st.OnDemandRotationStartDate)
		}
		e.wantRots(id, fxOnDemand(start.Add(d)))
		if m := e.describe(id).CurrentKeyMaterialId; m == material {
			t.Fatalf("CurrentKeyMaterialId unchanged after the rotation completed")
		}
	}
	check(true)
	e.advance(d - time.Microsecond)
	check(true)
	if next, ok := e.s.NextEventTime(); !ok || !next.Equal(start.Add(d)) {
		t.Fatalf("NextEventTime = %v, %v; want %v", next, ok, start.Add(d))
	}
	e.advance(time.Microsecond)
	check(false)
}

// c.1 "DisableKeyRotation does not affect it: it neither blocks on-demand
// rotation nor cancels one in progress".
func TestSeedDisableKeyRotationDoesNotCancelOnDemand(t *testing.T) {
	const d = time.Hour
	e := fxNew(t, kms.WithOnDemandRotationDuration(d))
	id, _ := e.symmetric()
	e.enableRotation(id, 0)
	e.rotate(id)
	if _, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	fxTimeEq(t, "OnDemandRotationStartDate", e.status(id).OnDemandRotationStartDate, fxT0)
	e.advance(d)
	e.wantRots(id, fxOnDemand(fxT0.Add(d)))
	e.advance(time.Minute)
	e.rotate(id) // rotation off does not block on-demand rotation
}

// c.5 and decision D14: ListKeyRotations pages with Limit, Marker, Truncated
// and NextMarker (only when truncated), oldest first; the default Limit is
// 100; a marker from another key or a garbage marker →
// InvalidMarkerException.
func TestSeedListKeyRotationsPaging(t *testing.T) {
	e := fxNew(t, kms.WithOnDemandRotationQuota(1000))
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	var want []fxRot
	for day := 1; day <= 250; day++ {
		e.setClock(fxT0.Add(time.Duration(day) * fxDay))
		if day%90 == 0 {
			want = append(want, fxAuto(e.now())) // it happened first, at the same instant
		}
		e.rotate(id)
		want = append(want, fxOnDemand(e.now()))
	}
	e.wantRots(id, want...)

	// Default Limit 100.
	first, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Rotations) != 100 || !first.Truncated || first.NextMarker == "" {
		t.Fatalf("default page: %d entries, Truncated %v, NextMarker %q; want 100, true, set",
			len(first.Rotations), first.Truncated, first.NextMarker)
	}

	// Pages of 7, by key ARN, concatenate to the whole list.
	var got []kms.RotationsListEntry
	marker, pages := "", 0
	for {
		out, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: arn, Limit: kms.Int32(7), Marker: marker})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		if len(out.Rotations) > 7 {
			t.Fatalf("page %d has %d entries, Limit 7", pages, len(out.Rotations))
		}
		got = append(got, out.Rotations...)
		if !out.Truncated {
			if out.NextMarker != "" {
				t.Fatalf("last page has NextMarker %q", out.NextMarker)
			}
			break
		}
		marker = out.NextMarker
	}
	if len(got) != len(want) || pages != (len(want)+6)/7 {
		t.Fatalf("%d entries in %d pages, want %d in %d", len(got), pages, len(want), (len(want)+6)/7)
	}
	for i, r := range got {
		if !r.RotationDate.Equal(want[i].At) || r.RotationType != want[i].Type || r.KeyId != id {
			t.Fatalf("entry %d = %v %s %s, want %v", i, *r.RotationDate, r.RotationType, r.KeyId, want[i])
		}
		if i > 0 && r.RotationDate.Before(*got[i-1].RotationDate) {
			t.Fatalf("entry %d is older than entry %d (D14: oldest first)", i, i-1)
		}
		wantState := "NON_CURRENT"
		if i == len(got)-1 {
			wantState = "CURRENT"
		}
		if r.KeyMaterialState != wantState || len(r.KeyMaterialId) != 64 {
			t.Fatalf("entry %d: KeyMaterialState %s, KeyMaterialId %q", i, r.KeyMaterialState, r.KeyMaterialId)
		}
	}

	// Markers are per key and opaque (D14).
	other, _ := e.symmetric()
	e.rotate(other)
	e.rotate(other)
	otherPage, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: other, Limit: kms.Int32(1)})
	if err != nil || !otherPage.Truncated {
		t.Fatalf("other key page: %+v, %v", otherPage, err)
	}
	tagged := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "a"}, {TagKey: "b"}}})
	tagPage, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: tagged.KeyId, Limit: kms.Int32(1)})
	if err != nil || !tagPage.Truncated {
		t.Fatalf("tag page: %+v, %v", tagPage, err)
	}
	before := e.snapshot(id)
	for name, m := range map[string]string{
		"another key's marker":        otherPage.NextMarker,
		"a ListResourceTags marker":   tagPage.NextMarker,
		"garbage":                     "not-a-marker",
		"first page's marker, edited": first.NextMarker + "A",
	} {
		_, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Marker: m})
		if !errors.Is(err, keystate.ErrInvalidMarker) {
			t.Errorf("%s: got %v, want InvalidMarkerException", name, err)
			continue
		}
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListKeyRotations,
			KeyID: "", State: keystate.None, AnyMsg: true})
	}
	e.unchanged(id, before)
}

// c.5 IncludeKeyMaterial: ALL_KEY_MATERIAL adds the original material first,
// without RotationDate and RotationType; an unknown value is a
// ValidationException (e.3, D16).
func TestSeedListKeyRotationsIncludeKeyMaterial(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.rotate(id)
	all, err := fxAllRotations(e.ctx, e.s, id, "ALL_KEY_MATERIAL", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].RotationDate != nil || all[0].RotationType != "" || all[0].KeyMaterialState != "NON_CURRENT" ||
		all[1].RotationType != "ON_DEMAND" || all[1].KeyMaterialState != "CURRENT" || all[0].KeyMaterialId == all[1].KeyMaterialId {
		t.Fatalf("ALL_KEY_MATERIAL = %+v", all)
	}
	only, err := fxAllRotations(e.ctx, e.s, id, "ROTATIONS_ONLY", 10)
	if err != nil || len(only) != 1 || only[0].KeyMaterialId != all[1].KeyMaterialId {
		t.Fatalf("ROTATIONS_ONLY = %+v, %v", only, err)
	}
	if cur := e.describe(id).CurrentKeyMaterialId; cur != all[1].KeyMaterialId {
		t.Errorf("CurrentKeyMaterialId %s is not the CURRENT entry's %s", cur, all[1].KeyMaterialId)
	}
	before := e.snapshot(id)
	_, err = e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "SOME"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeyRotations, AnyMsg: true})
	e.unchanged(id, before)
}

// c.2 "RotationPeriodInDays: integer 90–2560, default 365" and D16: 89 and
// 2561 → ValidationException with the AWS-style message; nothing changes.
func TestSeedEnableKeyRotationPeriod(t *testing.T) {
	for _, c := range []struct {
		period *int32
		want   int32
		msg    string
	}{
		{nil, 365, ""},
		{kms.Int32(90), 90, ""},
		{kms.Int32(2560), 2560, ""},
		{kms.Int32(180), 180, ""},
		{kms.Int32(89), 0, fxValidation("89", "rotationPeriodInDays", "Member must have value greater than or equal to 90")},
		{kms.Int32(2561), 0, fxValidation("2561", "rotationPeriodInDays", "Member must have value less than or equal to 2560")},
		{kms.Int32(0), 0, fxValidation("0", "rotationPeriodInDays", "Member must have value greater than or equal to 90")},
		{kms.Int32(-1), 0, fxValidation("-1", "rotationPeriodInDays", "Member must have value greater than or equal to 90")},
	} {
		name := "default"
		if c.period != nil {
			name = strconv.Itoa(int(*c.period))
		}
		t.Run(name, func(t *testing.T) {
			e := fxNew(t)
			id, arn := e.symmetric()
			before := e.snapshot(id)
			_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: c.period})
			if c.msg != "" {
				fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.EnableKeyRotation, Msg: c.msg})
				e.unchanged(id, before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := e.status(id)
			if st.KeyId != arn || !st.KeyRotationEnabled || *st.RotationPeriodInDays != c.want {
				t.Fatalf("status = %+v, want period %d", st, c.want)
			}
			fxTimeEq(t, "NextRotationDate", st.NextRotationDate, fxT0.Add(time.Duration(c.want)*fxDay))
		})
	}
}

// c.2 timeline example: rotation enabled 15 Mar 2022 with the default
// period → first rotation one period later (15 Mar 2023), then every
// period after that. kmsmodel counts the period in exact days (D13), so the
// second rotation is 365 days later, 2024-03-14 (2024 is a leap year).
func TestSeedEnableKeyRotationTimeline(t *testing.T) {
	enabled := time.Date(2022, 3, 15, 0, 0, 0, 0, time.UTC)
	e := fxNewAt(t, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC))
	id, _ := e.symmetric()
	e.setClock(enabled)
	e.enableRotation(id, 0)
	e.setClock(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	first := time.Date(2023, 3, 15, 0, 0, 0, 0, time.UTC)
	e.wantRots(id, fxAuto(first), fxAuto(first.Add(365*fxDay)))
}

// c.4 and D20: re-enabling after DisableKeyRotation schedules from the new
// enable date (c.2), and the status fields follow D20.
func TestSeedReenableAfterDisableKeyRotation(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	e.advance(50 * fxDay)
	if _, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	st := e.status(id)
	if st.KeyId != arn || st.KeyRotationEnabled || st.RotationPeriodInDays != nil || st.NextRotationDate != nil {
		t.Fatalf("status after DisableKeyRotation = %+v, want KeyId and false only (D20)", st)
	}
	e.advance(50 * fxDay) // past the old date (day 90): no rotation
	if n := len(e.rotations(id)); n != 0 {
		t.Fatalf("%d rotations with automatic rotation off", n)
	}
	e.enableRotation(id, 90)
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, fxT0.Add(190*fxDay))
	e.advance(90 * fxDay)
	e.wantRots(id, fxAuto(fxT0.Add(190*fxDay)))
}

// c.4 "Cross-account: Yes" for GetKeyRotationStatus, decided by the key
// policy (D6: AccessDeniedException unless it grants the caller); c.1
// "Cross-account: no" for RotateKeyOnDemand → NotFoundException (D6) even
// when the policy would allow it.
func TestSeedCrossAccount(t *testing.T) {
	t.Run("RotateKeyOnDemand", func(t *testing.T) {
		for _, auth := range []struct {
			name string
			opt  []kms.Option
		}{
			{"default authorizer", nil},
			{"allow-all authorizer", []kms.Option{kms.WithAuthorizer(kms.AuthorizerFunc(
				func(context.Context, kms.AuthRequest) error { return nil }))}},
		} {
			t.Run(auth.name, func(t *testing.T) {
				e := fxNew(t, auth.opt...)
				id, arn := e.symmetric()
				before := e.snapshot(id)
				_, err := e.s.RotateKeyOnDemand(e.as(fxOther), &kms.RotateKeyOnDemandInput{KeyId: arn})
				fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: arn,
					State: keystate.None, Msg: fxNotExist(arn)})
				e.unchanged(id, before)
			})
		}
	})
	t.Run("GetKeyRotationStatus denied by SameAccount", func(t *testing.T) {
		e := fxNew(t)
		id, arn := e.symmetric()
		e.enableRotation(id, 0)
		before := e.snapshot(id)
		_, err := e.s.GetKeyRotationStatus(e.as(fxOther), &kms.GetKeyRotationStatusInput{KeyId: arn})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.GetKeyRotationStatus, KeyID: arn,
			State: keystate.Enabled, AnyMsg: true})
		e.unchanged(id, before)
	})
	t.Run("GetKeyRotationStatus allowed by the authorizer", func(t *testing.T) {
		var seen []kms.AuthRequest
		allow := kms.AuthorizerFunc(func(_ context.Context, r kms.AuthRequest) error {
			seen = append(seen, r)
			return nil
		})
		e := fxNew(t, kms.WithAuthorizer(allow))
		id, arn := e.symmetric()
		e.enableRotation(id, 120)
		seen = nil
		st, err := e.s.GetKeyRotationStatus(e.as(fxOther), &kms.GetKeyRotationStatusInput{KeyId: arn})
		if err != nil {
			t.Fatal(err)
		}
		if st.KeyId != arn || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 120 {
			t.Fatalf("status = %+v", st)
		}
		want := kms.AuthRequest{Caller: fxOther, Action: "kms:GetKeyRotationStatus", KeyARN: arn, KeyAccount: fxAccount}
		if len(seen) != 1 || seen[0] != want {
			t.Fatalf("authorizer saw %+v, want [%+v]", seen, want)
		}
		// A bare key ID names a key of the caller's own account (D19).
		_, err = e.s.GetKeyRotationStatus(e.as(fxOther), &kms.GetKeyRotationStatusInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyRotationStatus,
			KeyID: fxARNIn(fxOther, id), Msg: fxNotExist(fxARNIn(fxOther, id))})
	})
}

// c.1 "Permission: kms:RotateKeyOnDemand in the key policy": an authorizer
// that denies that action refuses the call with AccessDeniedException
// wrapping its own error, after seeing the request; nothing changes.
func TestSeedAuthorizerDeniesRotateKeyOnDemand(t *testing.T) {
	denied := errors.New("policy denies kms:RotateKeyOnDemand")
	var seen []kms.AuthRequest
	auth := kms.AuthorizerFunc(func(_ context.Context, r kms.AuthRequest) error {
		seen = append(seen, r)
		if r.Action == "kms:RotateKeyOnDemand" {
			return denied
		}
		return nil
	})
	e := fxNew(t, kms.WithAuthorizer(auth))
	id, arn := e.symmetric()
	before := e.snapshot(id)
	seen = nil
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, AnyMsg: true})
	if !errors.Is(err, denied) {
		t.Errorf("errors.Is(err, the authorizer's error) = false; err = %v", err)
	}
	want := kms.AuthRequest{Caller: fxAccount, Action: "kms:RotateKeyOnDemand", KeyARN: arn, KeyAccount: fxAccount}
	if len(seen) != 1 || seen[0] != want {
		t.Fatalf("authorizer saw %+v, want [%+v]", seen, want)
	}
	e.unchanged(id, before)
	e.enableRotation(id, 0) // other actions are still allowed
}

// c.6 "Disabled key: never rotated while Disabled" and c.6/c.4
// "PendingDeletion: the status reads false": RotateKeyOnDemand on a
// Disabled key → DisabledException (footnote [1], recording row 3c) and on a
// PendingDeletion key → KMSInvalidStateException (footnote [3]).
func TestSeedRotateOnDemandByState(t *testing.T) {
	e := fxNew(t)
	dis, disARN := e.symmetric()
	e.disable(dis)
	pend, pendARN := e.symmetric()
	e.scheduleDeletion(pend, 7)
	for _, c := range []struct {
		id   string
		want fxWant
	}{
		{dis, fxWant{Code: keystate.ErrDisabled, Op: keystate.RotateKeyOnDemand, KeyID: disARN,
			State: keystate.Disabled, Msg: disARN + " is disabled."}},
		{pend, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.RotateKeyOnDemand, KeyID: pendARN,
			State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."}},
	} {
		before := e.snapshot(c.id)
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: c.id})
		fxCheckErr(t, err, c.want)
		e.unchanged(c.id, before)
	}
}
