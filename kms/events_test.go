package kms_test

// Tests of the event trail (kms.WithObserver, doc.go "# Events"): every call,
// accepted or refused, and every scheduled event (RotateKey with its
// rotationType, DeleteKey) is delivered once, in time order, with its
// instant and key ARN.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// fxEv is the part of an event record the tests compare.
type fxEv struct {
	Time      time.Time
	Name      string
	Scheduled bool
	Caller    string
	KeyARN    string
	ErrorCode string
	Rotation  string // Parameters["rotationType"]
}

func (e fxEv) String() string {
	return fmt.Sprintf("%s %s sched=%v caller=%s key=%s err=%s rot=%s",
		e.Time.Format(time.RFC3339Nano), e.Name, e.Scheduled, e.Caller, e.KeyARN, e.ErrorCode, e.Rotation)
}

func fxEvOf(e kms.Event) fxEv {
	return fxEv{Time: e.Time, Name: e.Name, Scheduled: e.Scheduled, Caller: e.Caller, KeyARN: e.KeyARN,
		ErrorCode: e.ErrorCode, Rotation: e.Parameters["rotationType"]}
}

// fxCheckTrail fails unless the records are exactly want, in order, and in
// non-decreasing time order; refused calls carry an ErrorMessage, accepted
// calls none.
func fxCheckTrail(t *testing.T, got []kms.Event, want []fxEv) {
	t.Helper()
	var lines []string
	for _, e := range got {
		lines = append(lines, fxEvOf(e).String())
	}
	trail := strings.Join(lines, "\n")
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d:\n%s", len(got), len(want), trail)
	}
	for i, e := range got {
		g := fxEvOf(e)
		if !g.Time.Equal(want[i].Time) || g.Name != want[i].Name || g.Scheduled != want[i].Scheduled || g.Caller != want[i].Caller ||
			g.KeyARN != want[i].KeyARN || g.ErrorCode != want[i].ErrorCode || g.Rotation != want[i].Rotation {
			t.Fatalf("record %d = %s\nwant       %s\ntrail:\n%s", i, g, want[i], trail)
		}
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Fatalf("record %d at %v is before record %d at %v", i, e.Time, i-1, got[i-1].Time)
		}
		if (e.ErrorCode == "") != (e.ErrorMessage == "") && !(e.ErrorCode == string(keystate.ErrUnsupportedOperation)) {
			t.Fatalf("record %d: ErrorCode %q with ErrorMessage %q", i, e.ErrorCode, e.ErrorMessage)
		}
		if e.Time.Location() != time.UTC {
			t.Fatalf("record %d: Time %v is not UTC", i, e.Time)
		}
	}
}

// The trail of one key's life: calls (accepted and refused), the completion
// of an on-demand rotation (D10), an automatic rotation applied lazily by a
// later call at its own instant (D13), a refused cross-account call, the
// deletion at DeletionDate (D7) and a call after it.
func TestEventsTrail(t *testing.T) {
	rec := &fxRecorder{}
	const d = 10 * time.Minute
	e := fxNew(t, kms.WithObserver(rec), kms.WithOnDemandRotationDuration(d))
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	t1 := e.advance(time.Hour)
	e.rotate(id)
	t2 := e.advance(time.Minute)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrConflict, Op: keystate.RotateKeyOnDemand, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	t3 := e.advance(d - time.Minute)
	if n := e.s.Sweep(); n != 1 {
		t.Fatalf("Sweep applied %d events, want 1", n)
	}
	t4 := e.now()
	e.s.Sweep() // nothing due: no record
	t5 := e.advance(100 * fxDay)
	e.describe(arn) // applies the automatic rotation of day 90 first
	_, err = e.s.GetKeyRotationStatus(e.as(fxOther), &kms.GetKeyRotationStatusInput{KeyId: arn})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.GetKeyRotationStatus, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	del := e.scheduleDeletion(id, 7)
	e.setClock(del.Add(5 * fxDay))
	if n := e.s.Sweep(); n != 1 {
		t.Fatalf("Sweep applied %d events, want 1 (the deletion)", n)
	}
	t6 := e.now()
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: arn, Msg: fxNotExist(arn)})

	auto := fxT0.Add(90 * fxDay)
	fxCheckTrail(t, rec.events, []fxEv{
		{Time: fxT0, Name: "CreateKey", Caller: fxAccount, KeyARN: arn},
		{Time: fxT0, Name: "EnableKeyRotation", Caller: fxAccount, KeyARN: arn},
		{Time: t1, Name: "RotateKeyOnDemand", Caller: fxAccount, KeyARN: arn},
		{Time: t2, Name: "RotateKeyOnDemand", Caller: fxAccount, KeyARN: arn, ErrorCode: "ConflictException"},
		{Time: t3, Name: "RotateKey", Scheduled: true, KeyARN: arn, Rotation: "ON_DEMAND"},
		{Time: auto, Name: "RotateKey", Scheduled: true, KeyARN: arn, Rotation: "AUTOMATIC"},
		{Time: t5, Name: "DescribeKey", Caller: fxAccount, KeyARN: arn},
		{Time: t5, Name: "GetKeyRotationStatus", Caller: fxOther, KeyARN: arn, ErrorCode: "AccessDeniedException"},
		{Time: t5, Name: "ScheduleKeyDeletion", Caller: fxAccount, KeyARN: arn},
		{Time: del, Name: "DeleteKey", Scheduled: true, KeyARN: arn},
		{Time: t6, Name: "DescribeKey", Caller: fxAccount, KeyARN: arn, ErrorCode: "NotFoundException"},
	})
	if !t3.Equal(t1.Add(d)) || !t4.Equal(t3) {
		t.Fatalf("fixture: t3 %v", t3)
	}
	// Parameters carry the request by AWS field name.
	if p := rec.events[1].Parameters; p["keyId"] != id || p["rotationPeriodInDays"] != "90" {
		t.Errorf("EnableKeyRotation parameters = %v", p)
	}
	if p := rec.events[8].Parameters; p["keyId"] != id || p["pendingWindowInDays"] != "7" {
		t.Errorf("ScheduleKeyDeletion parameters = %v", p)
	}
	if m := rec.events[3].ErrorMessage; m == "" {
		t.Errorf("refused call without ErrorMessage")
	}
}

// Rotations that happen during a call are recorded at the call's instant:
// an on-demand rotation of duration 0 (D10), the catch-up of EnableKey
// (D12) and the immediate rotation of a period change (D11).
func TestEventsRotationsInsideCalls(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	id, arn := e.symmetric()
	e.enableRotation(id, 365)
	rec.events = nil

	t1 := e.advance(fxDay)
	e.rotate(id)
	t2 := e.advance(199 * fxDay)
	e.enableRotation(id, 90) // day 200 ≥ day 0 + 90: rotates at once (D11)
	e.disable(id)
	t3 := e.advance(100 * fxDay) // day 290 passed while Disabled
	e.enable(id)                 // rotates once (D12)

	want := map[string][]fxEv{
		"RotateKeyOnDemand": {
			{Time: t1, Name: "RotateKeyOnDemand", Caller: fxAccount, KeyARN: arn},
			{Time: t1, Name: "RotateKey", Scheduled: true, KeyARN: arn, Rotation: "ON_DEMAND"},
		},
		"EnableKeyRotation": {
			{Time: t2, Name: "EnableKeyRotation", Caller: fxAccount, KeyARN: arn},
			{Time: t2, Name: "RotateKey", Scheduled: true, KeyARN: arn, Rotation: "AUTOMATIC"},
		},
		"EnableKey": {
			{Time: t3, Name: "EnableKey", Caller: fxAccount, KeyARN: arn},
			{Time: t3, Name: "RotateKey", Scheduled: true, KeyARN: arn, Rotation: "AUTOMATIC"},
		},
	}
	// The call and the rotation it caused share an instant; the trail stays
	// in time order and carries both.
	var got []fxEv
	for i, ev := range rec.events {
		if i > 0 && ev.Time.Before(rec.events[i-1].Time) {
			t.Fatalf("record %d out of time order", i)
		}
		got = append(got, fxEvOf(ev))
	}
	for call, evs := range want {
		for _, w := range evs {
			found := false
			for _, g := range got {
				if g == w {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no record %s in\n%v", call, w, got)
			}
		}
	}
	if len(got) != 7 { // the three pairs and DisableKey
		t.Fatalf("%d records, want 7: %v", len(got), got)
	}
	e.wantRots(id, fxOnDemand(t1), fxAuto(t2), fxAuto(t3))
}

// Service.Totals counts the RotateKey records by rotationType and the
// DeleteKey records of the same life: scheduled rotations (D13), one
// completed inside its call (D10, duration 0), the catch-up of EnableKey
// (D12) and a deletion (D7).
func TestTotalsCountTheRecords(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	if got := e.s.Totals(); got != (kms.Totals{}) {
		t.Fatalf("a new service's Totals = %+v", got)
	}
	id, _ := e.symmetric()
	e.enableRotation(id, 90)
	e.advance(fxDay)
	e.rotate(id)
	e.advance(200 * fxDay)
	e.s.Sweep() // days 90 and 180
	e.disable(id)
	e.advance(100 * fxDay) // day 270 passes while Disabled
	e.enable(id)           // rotates once (D12)
	id2, _ := e.symmetric()
	e.setClock(e.scheduleDeletion(id2, 7))
	e.s.Sweep()
	var want kms.Totals
	for _, ev := range rec.events {
		switch {
		case ev.Name == "RotateKey" && ev.Parameters["rotationType"] == "ON_DEMAND":
			want.OnDemandRotations++
		case ev.Name == "RotateKey":
			want.AutomaticRotations++
		case ev.Name == "DeleteKey":
			want.Deletions++
		}
	}
	if got := e.s.Totals(); got != want || want != (kms.Totals{AutomaticRotations: 3, OnDemandRotations: 1, Deletions: 1}) {
		t.Fatalf("Totals = %+v, the records count %+v, want 3 automatic, 1 on demand, 1 deletion", got, want)
	}
}

// Every refused call produces a record with its exception name, including
// refusals before any key is resolved (validation, identifier syntax).
func TestEventsRefusedCalls(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	id, arn := e.symmetric()
	rec.events = nil
	calls := []struct {
		code string
		key  string // the KeyARN expected in the record, when the key is known
		call func() error
	}{
		{"ValidationException", "", func() error {
			_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(89)})
			return err
		}},
		{"InvalidArnException", "", func() error {
			_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "arn:aws:kms:bogus"})
			return err
		}},
		{"NotFoundException", fxARN(fxMissingID), func() error {
			_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: fxMissingID})
			return err
		}},
		{"KMSInvalidStateException", arn, func() error {
			_, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: id})
			return err
		}},
		{"TagException", "", func() error {
			_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "aws:x"}}})
			return err
		}},
		{"ValidationException", "", func() error {
			_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "x", TargetKeyId: id})
			return err
		}},
		{"InvalidMarkerException", arn, func() error {
			_, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Marker: "junk"})
			return err
		}},
	}
	for i, c := range calls {
		if err := c.call(); err == nil {
			t.Fatalf("call %d (%s) accepted", i, c.code)
		}
		if len(rec.events) != i+1 {
			t.Fatalf("call %d: %d records, want %d", i, len(rec.events), i+1)
		}
		ev := rec.events[i]
		if ev.ErrorCode != c.code || ev.ErrorMessage == "" || ev.Scheduled || ev.Caller != fxAccount || !ev.Time.Equal(fxT0) {
			t.Errorf("call %d record = %+v, want ErrorCode %s", i, ev, c.code)
		}
		if c.key != "" && ev.KeyARN != c.key {
			t.Errorf("call %d record KeyARN = %q, want %q", i, ev.KeyARN, c.key)
		}
	}
}

// The trail never carries the random key-ID source's state or key
// material: for a symmetric key its records hold no KeyMaterialId (doc.go
// "# Events").
func TestEventsNoKeyMaterial(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	id, _ := e.symmetric()
	e.rotate(id)
	material := e.describe(id).CurrentKeyMaterialId
	for _, r := range e.rotations(id) {
		for _, ev := range rec.events {
			for k, v := range ev.Parameters {
				if strings.Contains(v, r.KeyMaterialId) || strings.Contains(v, material) {
					t.Fatalf("record %s carries key material in %s", ev.Name, k)
				}
			}
		}
	}
}
