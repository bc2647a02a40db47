package keystate

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/looplab/fsm"
	"pgregory.net/rapid"
)

// TestCompiledMatchesLooplab runs random event sequences on one persistent
// looplab machine and on the compiled table side by side: on every step,
// accepted or refused, they agree on the result and on the state.
func TestCompiledMatchesLooplab(t *testing.T) {
	states := make([]State, 0, numStates)
	for s := range numStates {
		states = append(states, s)
	}
	rapid.Check(t, func(t *rapid.T) {
		start := rapid.SampledFrom(states).Draw(t, "start")
		m := fsm.NewFSM(start.String(), graph(), nil)
		cur := start
		n := rapid.IntRange(0, 50).Draw(t, "steps")
		for range n {
			e := rapid.SampledFrom(Events()).Draw(t, "event")
			if lc := m.Can(e.String()); lc != Can(cur, e) {
				// looplab's own Can, self-loops included.
				t.Fatalf("Can(%v, %v) = %v, looplab Can = %v", cur, e, Can(cur, e), lc)
			}
			want, ok := fireMachine(m, e)
			got, err := Transition(cur, e)
			switch {
			case ok && (err != nil || got != want):
				t.Fatalf("Transition(%v, %v) = %v, %v; looplab moved to %v", cur, e, got, err, want)
			case !ok && (err == nil || got != cur):
				t.Fatalf("Transition(%v, %v) = %v, %v; looplab refused", cur, e, got, err)
			case !ok && m.Current() != cur.String():
				t.Fatalf("looplab refused %v but moved from %v to %q", e, cur, m.Current())
			}
			if Can(cur, e) != ok {
				t.Fatalf("Can(%v, %v) = %v, looplab says %v", cur, e, !ok, ok)
			}
			cur = got
		}
	})
}

// TestCompiledMatchesAvailableTransitions compares, state by state, the events
// the compiled table accepts with looplab's own AvailableTransitions of the
// graph, which does not go through fireMachine.
func TestCompiledMatchesAvailableTransitions(t *testing.T) {
	for s := range numStates {
		m := fsm.NewFSM(s.String(), graph(), nil)
		want := m.AvailableTransitions()
		slices.Sort(want)
		var got []string
		for _, e := range Events() {
			if Can(s, e) {
				got = append(got, e.String())
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("state %q: compiled accepts %v, looplab %v", s, got, want)
		}
	}
}

// TestGraphUsesKnownNames: every state and event name in the looplab graph is
// one of ours, so no arrow is silently dropped by a misspelling.
func TestGraphUsesKnownNames(t *testing.T) {
	for _, d := range graph() {
		if !slices.Contains(eventNames[:], d.Name) {
			t.Errorf("graph event %q is not an Event", d.Name)
		}
		for _, name := range append(slices.Clone(d.Src), d.Dst) {
			if _, ok := stateByName(name); !ok {
				t.Errorf("graph state %q is not a State", name)
			}
		}
	}
}

// TestStateTableTextAsPublished: the stateTable variable holds the cells of
// testdata/key-state-table.md character for character (its doc promises
// "cell for cell as published").
func TestStateTableTextAsPublished(t *testing.T) {
	f, err := os.Open("testdata/key-state-table.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Operation ") {
			continue
		}
		fields := strings.Split(strings.Trim(line, "|"), "|")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		op, ok := ParseOperation(fields[0])
		if !ok || op > numTableOperations {
			t.Errorf("row %q is not a table operation", fields[0])
			continue
		}
		rows++
		if !slices.Equal(fields[1:], stateTable[op][:]) {
			t.Errorf("%s: stateTable has %q, published %q", op, stateTable[op], fields[1:])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != int(numTableOperations) {
		t.Errorf("%d published rows, stateTable has %d", rows, numTableOperations)
	}
}
