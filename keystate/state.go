package keystate

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
)

// State is a KMS key state. The AWS states use the AWS KeyState strings;
// None and Deleted are kmsmodel's own markers for "not created yet" and
// "deletion completed". A State is one byte: it is what a key keeps resident.
type State uint8

// The key states.
const (
	// None is the zero State: the key does not exist yet.
	None State = iota
	// Creating: a multi-Region replica is being created (footnote [14]).
	Creating
	// Enabled: the key can be used.
	Enabled
	// Disabled: the key was disabled, or its deletion was cancelled.
	Disabled
	// PendingDeletion: the key is scheduled for deletion.
	PendingDeletion
	// PendingImport: an EXTERNAL key has no usable imported key material.
	PendingImport
	// PendingReplicaDeletion: a multi-Region primary waits for its replicas
	// to be deleted before its own waiting period starts.
	PendingReplicaDeletion
	// Unavailable: the key's custom key store is disconnected.
	Unavailable
	// Updating: UpdatePrimaryRegion is in progress (footnote [15]).
	Updating
	// Deleted is kmsmodel's marker for a key whose deletion has completed.
	// No AWS call ever reports it: such a key is not found (decision D7).
	Deleted
	numStates
)

var stateNames = [numStates]string{
	"", "Creating", "Enabled", "Disabled", "PendingDeletion", "PendingImport",
	"PendingReplicaDeletion", "Unavailable", "Updating", "Deleted",
}

// String returns the AWS KeyState string, "Deleted" for Deleted and "" for
// None.
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ParseState returns the AWS state named s. It does not accept None or
// Deleted.
func ParseState(s string) (State, bool) {
	for i := Creating; i <= Updating; i++ {
		if stateNames[i] == s {
			return i, true
		}
	}
	return None, false
}

// States returns the eight AWS key states, in the order of the AWS KeyState
// enum documentation.
func States() []State {
	return []State{Creating, Enabled, Disabled, PendingDeletion, PendingImport,
		PendingReplicaDeletion, Unavailable, Updating}
}

// Event is something that moves a key between states: a call that succeeded
// or a scheduled happening. Which event a call raises is the caller's
// business (kms decides, for example, between ScheduleDeletion and
// ScheduleDeletionWithReplicas); the graph below decides where it leads.
type Event uint8

// The events of the key lifecycle (aws-kms-behaviour.md section b).
const (
	// Create: CreateKey of an AWS_KMS, AWS_CLOUDHSM or EXTERNAL_KEY_STORE key.
	Create Event = iota
	// CreateExternal: CreateKey with Origin EXTERNAL.
	CreateExternal
	// CreateReplica: ReplicateKey created the replica.
	CreateReplica
	// ReplicaReady: a replica finished creating and has key material.
	ReplicaReady
	// ReplicaReadyPendingImport: a replica of an EXTERNAL primary finished
	// creating, without key material.
	ReplicaReadyPendingImport
	// Enable: EnableKey. On an Unavailable key it changes nothing now
	// (footnote [12]); the caller records the desired state.
	Enable
	// Disable: DisableKey. Unavailable as for Enable.
	Disable
	// ScheduleDeletion: ScheduleKeyDeletion of a key without replicas.
	ScheduleDeletion
	// ScheduleDeletionWithReplicas: ScheduleKeyDeletion of a multi-Region
	// primary that has replicas.
	ScheduleDeletionWithReplicas
	// ReplicasDeleted: the last replica of a primary waiting in
	// PendingReplicaDeletion was deleted; its waiting period starts.
	ReplicasDeleted
	// DeletionDue: the waiting period ended; the key is deleted.
	DeletionDue
	// CancelDeletion: CancelKeyDeletion. The key becomes Disabled.
	CancelDeletion
	// ImportMaterial: ImportKeyMaterial made all of the key's material
	// present.
	ImportMaterial
	// MaterialLost: imported material was deleted or expired. A key pending
	// deletion stays pending deletion.
	MaterialLost
	// UpdatePrimaryStart: UpdatePrimaryRegion began on this key.
	UpdatePrimaryStart
	// UpdatePrimaryDone: UpdatePrimaryRegion finished on this key.
	UpdatePrimaryDone
	// StoreDisconnect: the key's custom key store was disconnected. A key
	// pending deletion stays pending deletion (footnote [13]).
	StoreDisconnect
	// StoreReconnectEnabled: the store reconnected and the key's desired
	// state is Enabled.
	StoreReconnectEnabled
	// StoreReconnectDisabled: the store reconnected and the key's desired
	// state is Disabled.
	StoreReconnectDisabled
	numEvents
)

var eventNames = [numEvents]string{
	"Create", "CreateExternal", "CreateReplica", "ReplicaReady", "ReplicaReadyPendingImport",
	"Enable", "Disable", "ScheduleDeletion", "ScheduleDeletionWithReplicas", "ReplicasDeleted",
	"DeletionDue", "CancelDeletion", "ImportMaterial", "MaterialLost",
	"UpdatePrimaryStart", "UpdatePrimaryDone", "StoreDisconnect",
	"StoreReconnectEnabled", "StoreReconnectDisabled",
}

// String returns the event's name.
func (e Event) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// Events returns every Event, in declaration order.
func Events() []Event {
	out := make([]Event, numEvents)
	for i := range out {
		out[i] = Event(i)
	}
	return out
}

// graph is the single definition of the key lifecycle, in looplab/fsm's
// terms. Each entry is one arrow (or a set of arrows sharing an event and a
// destination) of aws-kms-behaviour.md section (b). Self-loops, such as
// DisableKey on a Disabled key, are arrows too: the call is accepted and the
// state does not change.
func graph() fsm.Events {
	s := func(states ...State) []string {
		out := make([]string, len(states))
		for i, st := range states {
			out[i] = st.String()
		}
		return out
	}
	ev := func(e Event, dst State, src ...State) fsm.EventDesc {
		return fsm.EventDesc{Name: e.String(), Src: s(src...), Dst: dst.String()}
	}
	// The states that ScheduleKeyDeletion accepts (table a.2).
	schedulable := []State{Enabled, Disabled, PendingImport, Unavailable, Creating}
	return fsm.Events{
		ev(Create, Enabled, None),
		ev(CreateExternal, PendingImport, None),
		ev(CreateReplica, Creating, None),
		ev(ReplicaReady, Enabled, Creating),
		ev(ReplicaReadyPendingImport, PendingImport, Creating),
		ev(Enable, Enabled, Enabled, Disabled),
		ev(Enable, Unavailable, Unavailable), // footnote [12]
		ev(Disable, Disabled, Enabled, Disabled),
		ev(Disable, Unavailable, Unavailable), // footnote [12]
		ev(ScheduleDeletion, PendingDeletion, schedulable...),
		ev(ScheduleDeletionWithReplicas, PendingReplicaDeletion, schedulable...),
		ev(ReplicasDeleted, PendingDeletion, PendingReplicaDeletion),
		ev(DeletionDue, Deleted, PendingDeletion),
		ev(CancelDeletion, Disabled, PendingDeletion, PendingReplicaDeletion),
		ev(ImportMaterial, Enabled, PendingImport, Enabled),
		ev(ImportMaterial, Disabled, Disabled),
		ev(ImportMaterial, Updating, Updating),
		ev(MaterialLost, PendingImport, Enabled, Disabled, PendingImport),
		ev(MaterialLost, PendingDeletion, PendingDeletion),
		ev(MaterialLost, PendingReplicaDeletion, PendingReplicaDeletion),
		ev(UpdatePrimaryStart, Updating, Enabled),
		ev(UpdatePrimaryDone, Enabled, Updating),
		ev(StoreDisconnect, Unavailable, Enabled, Disabled, Unavailable),
		ev(StoreDisconnect, PendingDeletion, PendingDeletion), // footnote [13]
		ev(StoreReconnectEnabled, Enabled, Unavailable),
		ev(StoreReconnectDisabled, Disabled, Unavailable),
	}
}

// noEdge marks a refused (state, event) pair in the compiled table.
const noEdge = State(0xff)

// compiled is the lifecycle graph as a [state][event] table, derived once
// from the looplab machine. It is read-only after package initialisation.
var compiled = compile()

// newMachine returns a fresh looplab machine of the graph in state s.
func newMachine(s State) *fsm.FSM {
	return fsm.NewFSM(s.String(), graph(), nil)
}

// fireMachine raises e on m and translates looplab's results: a self-loop
// (NoTransitionError) is an accepted event that leaves the state unchanged.
func fireMachine(m *fsm.FSM, e Event) (State, bool) {
	err := m.Event(context.Background(), e.String())
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return noEdge, false
	}
	st, ok := stateByName(m.Current())
	if !ok {
		panic("keystate: looplab machine reached an unknown state " + m.Current())
	}
	return st, true
}

func stateByName(name string) (State, bool) {
	for i := range numStates {
		if stateNames[i] == name {
			return i, true
		}
	}
	return noEdge, false
}

func compile() (t [numStates][numEvents]State) {
	for s := range numStates {
		for e := range numEvents {
			dst, ok := fireMachine(newMachine(s), e)
			if !ok {
				dst = noEdge
			}
			t[s][e] = dst
		}
	}
	return t
}

// Transition returns the state a key in state s moves to when e happens. A
// refused event returns s unchanged and an *Error with code
// KMSInvalidStateException; callers that check the operation table first
// (Check) never see it.
func Transition(s State, e Event) (State, error) {
	if s < numStates && e < numEvents {
		if dst := compiled[s][e]; dst != noEdge {
			return dst, nil
		}
	}
	return s, &Error{Code: ErrKMSInvalidState, State: s,
		Message: fmt.Sprintf("event %s is not valid for a key in state %s", e, s)}
}

// Can reports whether e is accepted in state s.
func Can(s State, e Event) bool {
	return s < numStates && e < numEvents && compiled[s][e] != noEdge
}
