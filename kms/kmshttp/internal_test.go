package kmshttp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// TestStatusOf is decision D18: 400 for every client error, 500 for
// KMSInternalException and DependencyTimeoutException.
func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		code keystate.Exception
		want int
	}{
		{keystate.ErrNotFound, 400}, {keystate.ErrDisabled, 400}, {keystate.ErrKMSInvalidState, 400},
		{keystate.ErrConflict, 400}, {keystate.ErrAlreadyExists, 400}, {keystate.ErrAccessDenied, 400},
		{keystate.ErrValidation, 400}, {keystate.ErrLimitExceeded, 400}, {keystate.ErrUnsupportedOperation, 400},
		{keystate.ErrKMSInternal, 500}, {keystate.ErrDependencyTimeout, 500},
	} {
		code, status, body := errorBody(&keystate.Error{Code: tc.code, Message: "m"}, "rid", nil)
		msg := "m"
		if tc.code == keystate.ErrKMSInternal {
			msg = internalMessage("rid")
		}
		if status != tc.want || code != string(tc.code) || string(body) != `{"__type":"`+string(tc.code)+`","message":"`+msg+`"}` {
			t.Errorf("%s: %d %s %s, want %d", tc.code, status, code, body, tc.want)
		}
	}
	// An error that is not the model's refusal is an internal failure.
	code, status, _ := errorBody(errors.New("disk on fire"), "rid", nil)
	if code != "KMSInternalException" || status != 500 {
		t.Errorf("plain error: %s %d", code, status)
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":               `""`,
		"plain":          `"plain"`,
		`q"b\`:           `"q\"b\\"`,
		"\n\r\t\x01":     `"\n\r\t\u0001"`,
		"é😀<>&":          `"é😀<>&"`,
		"bad\xffutf8":    `"bad\ufffdutf8"`,
		"\u2028 ok \x7f": "\"\u2028 ok \x7f\"",
	} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendEpoch(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1704067200, 0), "1704067200.000"},
		{time.Unix(1704067200, 5e6), "1704067200.005"},
		{time.Unix(1704067200, 123999999), "1704067200.123"},
		{time.Unix(0, 0), "0.000"},
		{time.Unix(-1, 0), "-1.000"},
	} {
		if got := string(appendEpoch(nil, tc.t)); got != tc.want {
			t.Errorf("appendEpoch(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

// TestDecoderSyntax covers the decoder's syntax errors one by one.
func TestDecoderSyntax(t *testing.T) {
	skipAll := func(r *reader, _ []byte) error { return r.skip() }
	good := []string{``, ` `, `{}`, ` { } `, `{"a":1}`, `{"a":-0.5e-3,"b":[],"c":{},"d":[null,true,false,"x"]}`,
		`{"a":"\"\\\/\b\f\n\r\t\u0041"}`, `{"":0}`}
	for _, in := range good {
		if err := decodeObject([]byte(in), skipAll); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	bad := []string{`{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a":1 "b":2}`, `{"a":01}`, `{"a":1.}`,
		`{"a":1e}`, `{"a":-}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
		`{"a":[1,]}`, `{"a":[1 2]}`, `{a:1}`, `{"a":1}}`, "\x00", "{}\x00", `null`, `"s"`, `{"a":+1}`, `{"a":.5}`,
		`{"a":"x`, `{"a":"\`, `{"a":[`, strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70)}
	for _, in := range bad {
		err := decodeObject([]byte(in), skipAll)
		var we *wireError
		if !errors.As(err, &we) || we.code != "SerializationException" || we.status != 400 {
			t.Errorf("%q: %v, want SerializationException", in, err)
		}
	}
}

// TestDecoderSurrogates: \u escapes decode as encoding/json decodes them.
func TestDecoderSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83d\ude00"`: "😀",
		`"\ud83d"`:       "\ufffd",
		`"\ude00\ud83d"`: "\ufffd\ufffd",
		`"\ud83dx"`:      "\ufffdx",
		`"\ud83d\u0041"`: "\ufffdA",
		`"\u00e9"`:       "é",
	} {
		r := reader{b: []byte(in)}
		got, err := r.rawString()
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
}
