package keystate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// arrow is one accepted (state, event) pair of the key lifecycle.
type arrow struct {
	from  keystate.State
	event keystate.Event
	to    keystate.State
	cite  string
}

// Shorthands for the arrow table.
const (
	none        = keystate.None
	creating    = keystate.Creating
	enabled     = keystate.Enabled
	disabled    = keystate.Disabled
	pendingDel  = keystate.PendingDeletion
	pendingImp  = keystate.PendingImport
	pendingRepl = keystate.PendingReplicaDeletion
	unavailable = keystate.Unavailable
	updating    = keystate.Updating
	deleted     = keystate.Deleted
)

// specArrows is every arrow of aws-kms-behaviour.md section (b), plus the
// self-loops the key-state table (a.2) implies: an operation the table
// allows must have an arrow for the event it raises. Written from the spec,
// not from the implementation's graph.
func specArrows() []arrow {
	var out []arrow
	add := func(cite string, e keystate.Event, to keystate.State, from ...keystate.State) {
		for _, f := range from {
			out = append(out, arrow{from: f, event: e, to: to, cite: cite})
		}
	}
	// Section (b), row by row.
	add("b: CreateKey, Origin AWS_KMS / AWS_CLOUDHSM / EXTERNAL_KEY_STORE → Enabled", keystate.Create, enabled, none)
	add("b: CreateKey, Origin EXTERNAL → PendingImport", keystate.CreateExternal, pendingImp, none)
	add("b: ReplicateKey → Creating", keystate.CreateReplica, creating, none)
	add("b: ReplicateKey, Creating → Enabled", keystate.ReplicaReady, enabled, creating)
	add("b: ReplicateKey, Creating → PendingImport if the primary has imported material", keystate.ReplicaReadyPendingImport, pendingImp, creating)
	add("b: DisableKey, Enabled → Disabled", keystate.Disable, disabled, enabled)
	add("b: EnableKey, Disabled → Enabled", keystate.Enable, enabled, disabled)
	schedulable := []keystate.State{enabled, disabled, pendingImp, unavailable, creating} // b: "Enabled/Disabled (also PendingImport, Unavailable, Creating per table)"
	add("b: ScheduleKeyDeletion → PendingDeletion", keystate.ScheduleDeletion, pendingDel, schedulable...)
	add("b: ScheduleKeyDeletion, primary with replicas → PendingReplicaDeletion", keystate.ScheduleDeletionWithReplicas, pendingRepl, schedulable...)
	add("b: last replica deleted, PendingReplicaDeletion → PendingDeletion", keystate.ReplicasDeleted, pendingDel, pendingRepl)
	add("b: waiting period ends → deleted (decision D7)", keystate.DeletionDue, deleted, pendingDel)
	add("b: CancelKeyDeletion → Disabled", keystate.CancelDeletion, disabled, pendingDel, pendingRepl)
	add("b: DeleteImportedKeyMaterial or expiry, Enabled/Disabled → PendingImport", keystate.MaterialLost, pendingImp, enabled, disabled)
	add("b: DeleteImportedKeyMaterial, PendingDeletion unchanged", keystate.MaterialLost, pendingDel, pendingDel)
	add("b: ImportKeyMaterial, PendingImport → Enabled", keystate.ImportMaterial, enabled, pendingImp)
	// b: "Both keys must be Enabled when the call starts" (and table a.2:
	// UpdatePrimaryRegion ✗[1] when Disabled), "back to the original state".
	add("b: UpdatePrimaryRegion, Enabled → Updating", keystate.UpdatePrimaryStart, updating, enabled)
	add("b: UpdatePrimaryRegion done, Updating → Enabled (the original state)", keystate.UpdatePrimaryDone, enabled, updating)
	// b: "any non-PendingDeletion CKS key"; custom key store keys are
	// single-Region, symmetric and not EXTERNAL (d.1), so outside
	// PendingDeletion they are Enabled, Disabled or Unavailable.
	add("b: DisconnectCustomKeyStore → Unavailable", keystate.StoreDisconnect, unavailable, enabled, disabled, unavailable)
	add("b, footnote [13]: PendingDeletion stays PendingDeletion on disconnect", keystate.StoreDisconnect, pendingDel, pendingDel)
	add("b, footnote [12]: ConnectCustomKeyStore → back to Enabled", keystate.StoreReconnectEnabled, enabled, unavailable)
	add("b, footnote [12]: ConnectCustomKeyStore → back to Disabled", keystate.StoreReconnectDisabled, disabled, unavailable)

	// Self-loops the table implies.
	add("a.2: EnableKey ✓ on an Enabled key", keystate.Enable, enabled, enabled)
	add("a.2: DisableKey ✓ on a Disabled key", keystate.Disable, disabled, disabled)
	add("a.2, footnote [12]: EnableKey ✓[12] on Unavailable, state unchanged", keystate.Enable, unavailable, unavailable)
	add("a.2, footnote [12]: DisableKey ✓[12] on Unavailable, state unchanged", keystate.Disable, unavailable, unavailable)
	add("a.2: ImportKeyMaterial ?[9]/✓ on a key that has its material: state unchanged", keystate.ImportMaterial, enabled, enabled)
	add("a.2: ImportKeyMaterial ?[9] on a Disabled key: state unchanged", keystate.ImportMaterial, disabled, disabled)
	add("a.2: ImportKeyMaterial ✓ on an Updating key: state unchanged", keystate.ImportMaterial, updating, updating)
	add("a.2, a.5: DeleteImportedKeyMaterial ✓ in PendingImport (the 2022 table: \"No effect\")", keystate.MaterialLost, pendingImp, pendingImp)
	add("a.2: DeleteImportedKeyMaterial ✓[9] in the PendingDeletion / PendingReplicaDeletion column; b: pending deletion unchanged",
		keystate.MaterialLost, pendingRepl, pendingRepl)
	return out
}

// allStates is every State, kmsmodel's markers included.
func allStates() []keystate.State {
	var out []keystate.State
	for s := keystate.None; s <= keystate.Deleted; s++ {
		out = append(out, s)
	}
	return out
}

func stateName(s keystate.State) string {
	if s == keystate.None {
		return "None"
	}
	return s.String()
}

// TestTransitionsSectionB checks every arrow of aws-kms-behaviour.md section
// (b) and the self-loops of the key-state table.
func TestTransitionsSectionB(t *testing.T) {
	for _, a := range specArrows() {
		t.Run(fmt.Sprintf("%s/%s", stateName(a.from), a.event), func(t *testing.T) {
			got, err := keystate.Transition(a.from, a.event)
			if err != nil || got != a.to {
				t.Errorf("Transition(%s, %s) = %s, %v; want %s (%s)", stateName(a.from), a.event, stateName(got), err, stateName(a.to), a.cite)
			}
			if !keystate.Can(a.from, a.event) {
				t.Errorf("Can(%s, %s) = false (%s)", stateName(a.from), a.event, a.cite)
			}
		})
	}
}

// TestTransitionsRefused checks every (state, event) pair that is not an
// arrow: Transition leaves the state unchanged and returns a
// KMSInvalidStateException, and Can is false.
func TestTransitionsRefused(t *testing.T) {
	accepted := map[[2]int]arrow{}
	for _, a := range specArrows() {
		k := [2]int{int(a.from), int(a.event)}
		if _, dup := accepted[k]; dup {
			t.Fatalf("specArrows lists %s/%s twice", stateName(a.from), a.event)
		}
		accepted[k] = a
	}
	refused := 0
	for _, s := range allStates() {
		for _, e := range keystate.Events() {
			if _, ok := accepted[[2]int{int(s), int(e)}]; ok {
				continue
			}
			refused++
			assertRefused(t, s, e)
		}
	}
	// Values out of range are refused too.
	assertRefused(t, keystate.State(200), keystate.Create)
	assertRefused(t, keystate.Enabled, keystate.Event(200))
	t.Logf("%d arrows, %d refused pairs", len(accepted), refused)
}

func assertRefused(t *testing.T, s keystate.State, e keystate.Event) {
	t.Helper()
	got, err := keystate.Transition(s, e)
	if got != s {
		t.Errorf("Transition(%s, %s) moved the key to %s; want refused", stateName(s), e, stateName(got))
	}
	if !errors.Is(err, keystate.ErrKMSInvalidState) {
		t.Errorf("Transition(%s, %s) error = %v, want KMSInvalidStateException", stateName(s), e, err)
	}
	var ke *keystate.Error
	if errors.As(err, &ke) && ke.State != s {
		t.Errorf("Transition(%s, %s) error names state %s", stateName(s), e, stateName(ke.State))
	}
	if keystate.Can(s, e) {
		t.Errorf("Can(%s, %s) = true, want false", stateName(s), e)
	}
}

// TestDeletedIsFinal: nothing leaves Deleted, and nothing but a creation
// leaves None (section b; decision D7).
func TestDeletedIsFinal(t *testing.T) {
	for _, e := range keystate.Events() {
		if keystate.Can(keystate.Deleted, e) {
			t.Errorf("Can(Deleted, %s) = true", e)
		}
		creation := e == keystate.Create || e == keystate.CreateExternal || e == keystate.CreateReplica
		if keystate.Can(keystate.None, e) != creation {
			t.Errorf("Can(None, %s) = %v", e, keystate.Can(keystate.None, e))
		}
	}
}

// TestOperationsAgreeWithTransitions: for the operations that raise a
// lifecycle event, Check allows the operation exactly in the states where
// the event is accepted. Otherwise a caller that checks the table first would
// be refused by Transition (its doc promises it is not).
func TestOperationsAgreeWithTransitions(t *testing.T) {
	// UpdatePrimaryRegion is left out: the table allows it on an Updating key
	// (a.2 ✓) while section (b) requires Enabled keys; the spec does not say
	// what a call on an Updating key does.
	for _, c := range []struct {
		op    keystate.Operation
		event keystate.Event
		kind  keystate.Kind
		cite  string
	}{
		{keystate.EnableKey, keystate.Enable, keystate.Kind{}, "a.2 EnableKey; b"},
		{keystate.DisableKey, keystate.Disable, keystate.Kind{}, "a.2 DisableKey; b"},
		{keystate.ScheduleKeyDeletion, keystate.ScheduleDeletion, keystate.Kind{}, "a.2 ScheduleKeyDeletion; b"},
		{keystate.ScheduleKeyDeletion, keystate.ScheduleDeletionWithReplicas, keystate.Kind{MultiRegion: keystate.Primary}, "a.2 ScheduleKeyDeletion; b"},
		{keystate.CancelKeyDeletion, keystate.CancelDeletion, keystate.Kind{}, "a.2 CancelKeyDeletion; b"},
		{keystate.ImportKeyMaterial, keystate.ImportMaterial, keystate.Kind{Origin: keystate.External}, "a.2 ImportKeyMaterial; b"},
		{keystate.DeleteImportedKeyMaterial, keystate.MaterialLost, keystate.Kind{Origin: keystate.External}, "a.2 DeleteImportedKeyMaterial; b"},
	} {
		for _, s := range keystate.States() {
			t.Run(fmt.Sprintf("%s/%s", c.op, s), func(t *testing.T) {
				allowed := keystate.Check(c.op, s, c.kind, testARN) == nil
				can := keystate.Can(s, c.event)
				if allowed != can {
					t.Errorf("Check(%s, %s) allowed=%v but Can(%s, %s)=%v (%s)", c.op, s, allowed, s, c.event, can, c.cite)
				}
			})
		}
	}
}
