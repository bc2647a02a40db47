package kmshttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/kms"
)

// fuzzTargets are the X-Amz-Target values the fuzz target chooses from:
// every operation, the simulated-time targets and an unknown one.
func fuzzTargets() []string {
	var ts []string
	for _, op := range Operations() {
		ts = append(ts, "TrentService."+op)
	}
	return append(ts, "KmsModel.AdvanceClock", "KmsModel.Now", "TrentService.Nope")
}

// FuzzDecodeRequest feeds arbitrary bodies to every operation through the
// whole handler. It checks that nothing panics, that every response is
// either a success with an empty body or a JSON object, or an AWS-shaped
// error (a JSON object with __type equal to the X-Amzn-ErrorType header, a
// string message if any, status 400, 413 or 500), and that the decoder
// agrees with encoding/json on what is a JSON object and on the value of
// every top-level string member.
//
// The seed corpus is testdata/fuzz/FuzzDecodeRequest; run it longer with
// go test -run '^$' -fuzz FuzzDecodeRequest -fuzztime 60s ./kms/kmshttp.
func FuzzDecodeRequest(f *testing.F) {
	targets := fuzzTargets()
	for i, body := range []string{
		``, `{}`, `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, `{"Limit":10,"Marker":"x"}`,
		`{"Tags":[{"TagKey":"a","TagValue":"b"}],"MultiRegion":true}`, `{"TagKeys":["a",null]}`,
		`{"Seconds":1.5}`, `{"To":1e9}`, `{"KeyId":"\ud800\u00e9\""}`, `{"a":[{"b":[1,-0.5e+3,true,false,null]}]}`,
		`{"KeyId":1}`, `[`, `{"KeyId":"x"`, "{\"KeyId\":\"\xff\"}",
		`{"KeyId":"alias/a","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b","c":null}}`,
		`{"CiphertextBlob":"!!","Recipient":{"AttestationDocument":"eA=="},"DryRun":true}`,
		`{"NumberOfBytes":1024,"KeySpec":"AES_256","EncryptionContext":{}}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		target := targets[int(which)%len(targets)]
		clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		svc := kms.New(kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
		h, err := New(svc, WithManualClock(clock), WithRandom(rand.NewChaCha8([32]byte{2})), WithMaxBodyBytes(4096))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, rec)
		checkAgainstEncodingJSON(t, body)
	})
}

// checkResponse fails unless rec is a well-formed AWS JSON 1.1 response.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatal("no request ID")
	}
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		if len(out) > 0 && !json.Valid(out) {
			t.Fatalf("success body is not JSON: %q", out)
		}
		return
	}
	switch rec.Code {
	case 400, 413, 500:
	default:
		t.Fatalf("status %d", rec.Code)
	}
	var e map[string]any
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %q", err, out)
	}
	code, _ := e["__type"].(string)
	if code == "" || code != rec.Header().Get("X-Amzn-ErrorType") {
		t.Fatalf("__type %q, header %q", code, rec.Header().Get("X-Amzn-ErrorType"))
	}
	if m, ok := e["message"]; ok {
		if _, ok := m.(string); !ok {
			t.Fatalf("message is %T", m)
		}
	}
	for k := range e {
		if k != "__type" && k != "message" {
			t.Fatalf("unexpected member %q in an error", k)
		}
	}
}

// checkAgainstEncodingJSON compares the decoder's verdict and its string
// values with encoding/json's.
func checkAgainstEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	strs := map[string]string{}
	err := decodeObject(body, func(r *reader, name []byte) error {
		if r.peek() == '"' {
			s, err := r.rawString()
			strs[string(name)] = s
			return err
		}
		delete(strs, string(name))
		return r.skip()
	})
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(body)
	empty := len(trimmed) == 0
	if err == nil {
		if !isObject && !empty {
			t.Fatalf("decoder accepted %q, which encoding/json refuses or is not an object", body)
		}
	} else {
		var we *wireError
		if !errors.As(err, &we) || we.code != "SerializationException" {
			t.Fatalf("decoder error %v is not a SerializationException", err)
		}
		if isObject && utf8.Valid(body) && !strings.Contains(we.msg, "nesting deeper") {
			t.Fatalf("decoder refused valid JSON %q: %v", body, err)
		}
		return
	}
	if empty || !utf8.Valid(body) {
		return
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers beyond float64 are valid JSON
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	for k, v := range strs {
		if m[k] != v {
			t.Fatalf("member %q: decoder read %q, encoding/json %q", k, v, m[k])
		}
	}
}
