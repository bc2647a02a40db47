package keystate_test

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// lifecycleModel is the independent transition list of transition_test.go
// as a lookup table.
func lifecycleModel() map[[2]int]arrow {
	m := map[[2]int]arrow{}
	for _, a := range specArrows() {
		m[[2]int{int(a.from), int(a.event)}] = a
	}
	return m
}

// keyProfile is a kind of key as the lifecycle sees it.
type keyProfile struct {
	origin keystate.Origin
	role   keystate.MultiRegionRole
}

func (p keyProfile) String() string {
	s := originNames[p.origin]
	if p.role != keystate.SingleRegion {
		s += " " + p.role.String()
	}
	return s
}

func drawProfile(t *rapid.T) keyProfile {
	origin := rapid.SampledFrom([]keystate.Origin{keystate.AWSKMS, keystate.External,
		keystate.AWSCloudHSM, keystate.ExternalKeyStore}).Draw(t, "origin")
	role := keystate.SingleRegion
	// d.1: keys in a custom key store are single-Region.
	if !origin.InCustomKeyStore() {
		role = rapid.SampledFrom([]keystate.MultiRegionRole{keystate.SingleRegion,
			keystate.Primary, keystate.Replica}).Draw(t, "role")
	}
	return keyProfile{origin: origin, role: role}
}

// creation is the event that creates a key of this profile (section b).
func (p keyProfile) creation() keystate.Event {
	switch {
	case p.role == keystate.Replica:
		return keystate.CreateReplica
	case p.origin == keystate.External:
		return keystate.CreateExternal
	}
	return keystate.Create
}

// events are the events a caller raises for a key of this profile: store
// events only for custom key store keys, material events only for EXTERNAL
// keys, multi-Region events only for multi-Region keys (section b).
func (p keyProfile) events() []keystate.Event {
	evs := []keystate.Event{keystate.Enable, keystate.Disable, keystate.ScheduleDeletion,
		keystate.DeletionDue, keystate.CancelDeletion}
	if p.origin == keystate.External {
		evs = append(evs, keystate.ImportMaterial, keystate.MaterialLost)
	}
	if p.origin.InCustomKeyStore() {
		evs = append(evs, keystate.StoreDisconnect, keystate.StoreReconnectEnabled, keystate.StoreReconnectDisabled)
	}
	if p.role != keystate.SingleRegion {
		evs = append(evs, keystate.UpdatePrimaryStart, keystate.UpdatePrimaryDone,
			keystate.ScheduleDeletionWithReplicas, keystate.ReplicasDeleted)
	}
	if p.role == keystate.Replica {
		if p.origin == keystate.External {
			evs = append(evs, keystate.ReplicaReadyPendingImport)
		} else {
			evs = append(evs, keystate.ReplicaReady)
		}
	}
	return evs
}

// reachable are the states a key of this profile can be in
// (aws-kms-behaviour.md a.1): every key can be Enabled, Disabled,
// PendingDeletion (and then Deleted); PendingImport only with EXTERNAL
// origin; Unavailable only in a custom key store; Creating, Updating and
// PendingReplicaDeletion only for multi-Region keys (Creating for replicas).
func (p keyProfile) reachable(s keystate.State) bool {
	switch s {
	case keystate.Enabled, keystate.Disabled, keystate.PendingDeletion, keystate.Deleted:
		return true
	case keystate.PendingImport:
		return p.origin == keystate.External
	case keystate.Unavailable:
		return p.origin.InCustomKeyStore()
	case keystate.Updating, keystate.PendingReplicaDeletion:
		return p.role != keystate.SingleRegion
	case keystate.Creating:
		return p.role == keystate.Replica
	}
	return false
}

// step raises e on a key in state s and checks the result against the model:
// an accepted event moves to the model's state, a refused one leaves s
// unchanged with KMSInvalidStateException. It returns the new state.
func step(t *rapid.T, model map[[2]int]arrow, s keystate.State, e keystate.Event) keystate.State {
	a, accepted := model[[2]int{int(s), int(e)}]
	got, err := keystate.Transition(s, e)
	moved := err == nil && got == a.to && keystate.Can(s, e)
	refused := got == s && errors.Is(err, keystate.ErrKMSInvalidState) && !keystate.Can(s, e)
	switch {
	case accepted:
		if !moved {
			t.Fatalf("Transition(%s, %s) = %s, %v (Can %v); want %s (%s)", stateName(s), e,
				stateName(got), err, keystate.Can(s, e), stateName(a.to), a.cite)
		}
	default:
		if !refused {
			t.Fatalf("Transition(%s, %s) = %s, %v (Can %v); want %s unchanged, KMSInvalidStateException",
				stateName(s), e, stateName(got), err, keystate.Can(s, e), stateName(s))
		}
	}
	return got
}

// TestRapidLifecycle raises random sequences of the events a caller would
// raise for a key of a random kind, from creation on. Every step agrees with
// the independent transition list, and the key only reaches the states its
// kind can have (a.1): an EXTERNAL key is never Unavailable, an AWS_KMS
// single-Region key never PendingImport, and so on.
func TestRapidLifecycle(t *testing.T) {
	model := lifecycleModel()
	rapid.Check(t, func(t *rapid.T) {
		p := drawProfile(t)
		s := step(t, model, keystate.None, p.creation())
		if s == keystate.None {
			t.Fatalf("%s: creation refused", p)
		}
		events := p.events()
		n := rapid.IntRange(0, 60).Draw(t, "steps")
		for range n {
			e := rapid.SampledFrom(events).Draw(t, "event")
			s = step(t, model, s, e)
			if !p.reachable(s) {
				t.Fatalf("%s key reached %s", p, stateName(s))
			}
		}
	})
}

// TestRapidAnyEvents raises arbitrary events, creation events included, from
// an arbitrary state: the implementation agrees with the model on every
// step, and refused events leave the state unchanged.
func TestRapidAnyEvents(t *testing.T) {
	model := lifecycleModel()
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.SampledFrom(allStates()).Draw(t, "start")
		n := rapid.IntRange(0, 40).Draw(t, "steps")
		for range n {
			e := rapid.SampledFrom(keystate.Events()).Draw(t, "event")
			s = step(t, model, s, e)
		}
	})
}
