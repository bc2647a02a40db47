package keystate_test

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// testARN is the key ARN every test passes to Check.
const testARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// publishedTableRows is the number of operation rows of the key-state table
// as AWS publishes it (aws-kms-behaviour.md a.2, and the mirrored page it was
// transcribed from): 43, CancelKeyDeletion to VerifyMac.
const publishedTableRows = 43

// publishedRow is one operation row of testdata/key-state-table.md.
type publishedRow struct {
	line  int
	name  string
	cells []string // one per column, as written
}

// publishedTable is the AWS key-state table read from testdata.
type publishedTable struct {
	columns [][]keystate.State // the states each column covers
	rows    []publishedRow
}

// readPublishedTable parses testdata/key-state-table.md. It knows nothing of
// the implementation: column headers are AWS state names ("A / B" covers
// both), cells are kept as text.
func readPublishedTable(t *testing.T) publishedTable {
	t.Helper()
	f, err := os.Open("testdata/key-state-table.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	split := func(line string) []string {
		parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}

	var tab publishedTable
	sc := bufio.NewScanner(f)
	n := 0
	inTable := false
	for sc.Scan() {
		n++
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break // the table ends at the first non-table line
			}
			continue
		}
		fields := split(line)
		switch {
		case !inTable:
			if fields[0] != "Operation" {
				t.Fatalf("line %d: table header starts with %q, want \"Operation\"", n, fields[0])
			}
			for _, h := range fields[1:] {
				var col []keystate.State
				for _, name := range strings.Split(h, "/") {
					s, ok := keystate.ParseState(strings.TrimSpace(name))
					if !ok {
						t.Fatalf("line %d: column header %q names no AWS key state", n, h)
					}
					col = append(col, s)
				}
				tab.columns = append(tab.columns, col)
			}
			inTable = true
		case strings.HasPrefix(fields[0], "---"):
			// the separator line
		default:
			if len(fields) != len(tab.columns)+1 {
				t.Fatalf("line %d: %d cells, want %d", n, len(fields)-1, len(tab.columns))
			}
			name := strings.Trim(fields[0], "*") // RotateKeyOnDemand is bold in the spec copy
			tab.rows = append(tab.rows, publishedRow{line: n, name: name, cells: fields[1:]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// The columns of the published table, in order (aws-kms-behaviour.md a.2:
// the PendingDeletion column covers both PendingDeletion and
// PendingReplicaDeletion).
var wantColumns = [][]keystate.State{
	{keystate.Enabled},
	{keystate.Disabled},
	{keystate.PendingDeletion, keystate.PendingReplicaDeletion},
	{keystate.PendingImport},
	{keystate.Unavailable},
	{keystate.Creating},
	{keystate.Updating},
}

// publishedCell is a parsed cell: its mark and its footnotes, written as
// they appear ("2 or 3", "4,13", "" for none).
type publishedCell struct {
	mark  string // "✓", "✗", "?" or "N/A"
	notes string
}

var cellRE = regexp.MustCompile(`^(✓|✗|\?)((?:\[\d+\])(?:(?:,| or )\[\d+\])*)?$`)

func parsePublishedCell(t *testing.T, row publishedRow, col int) publishedCell {
	t.Helper()
	s := row.cells[col]
	if s == "N/A" {
		return publishedCell{mark: "N/A"}
	}
	m := cellRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("line %d (%s): cannot read cell %q", row.line, row.name, s)
	}
	return publishedCell{mark: m[1], notes: strings.NewReplacer("[", "", "]", "").Replace(m[2])}
}

// outcome is what Check must return: nothing (code == ""), or an *Error with
// exactly this exception and message.
type outcome struct {
	code keystate.Exception
	msg  string
	why  string // the footnote or decision that decides it
}

func (o outcome) String() string {
	if o.code == "" {
		return "allowed (" + o.why + ")"
	}
	return string(o.code) + " " + o.msg + " (" + o.why + ")"
}

// originNames are the AWS Origin strings (aws-kms-behaviour.md d.1).
var originNames = map[keystate.Origin]string{
	keystate.AWSKMS:           "AWS_KMS",
	keystate.External:         "EXTERNAL",
	keystate.AWSCloudHSM:      "AWS_CLOUDHSM",
	keystate.ExternalKeyStore: "EXTERNAL_KEY_STORE",
}

// stateSuffix is the KMSInvalidStateException message of each state after the
// ARN, as decision D19 records them.
var stateSuffix = map[keystate.State]string{
	keystate.Disabled:               " is disabled.",
	keystate.PendingDeletion:        " is pending deletion.",
	keystate.PendingReplicaDeletion: " is pending deletion.",
	keystate.PendingImport:          " is pending import.",
	keystate.Unavailable:            " is unavailable.",
	keystate.Creating:               " is creating.",
	keystate.Updating:               " is updating.",
}

// expectedOutcome decides a published cell for a key in state s with the
// given origin, from the cell text, the footnotes (a.3) and the readings of
// keystate.Check's doc comment and decisions D2a, D3, D17 and D19. It does
// not look at the implementation's tables.
func expectedOutcome(t *testing.T, c publishedCell, s keystate.State, origin keystate.Origin) outcome {
	t.Helper()
	inCustomKeyStore := origin == keystate.AWSCloudHSM || origin == keystate.ExternalKeyStore
	imported := origin == keystate.External
	allowed := func(why string) outcome { return outcome{why: why} }
	invalid := func(suffix, why string) outcome {
		return outcome{code: keystate.ErrKMSInvalidState, msg: testARN + suffix, why: why}
	}
	unsupported := func(why string) outcome {
		// The wording of footnote [6], with the key's origin; kmsmodel uses it
		// for [7] and [9] too (Check's doc comment, D19: same style).
		return outcome{code: keystate.ErrUnsupportedOperation,
			msg: testARN + " origin is " + originNames[origin] + " which is not valid for this operation.", why: why}
	}

	switch c.mark {
	case "N/A":
		// Check's doc comment: a key that cannot be in that state is refused
		// with the state's KMSInvalidStateException.
		return invalid(stateSuffix[s], "N/A")
	case "✓":
		switch c.notes {
		case "":
			return allowed("✓")
		case "12":
			// footnote [12]: the call succeeds, the state changes later.
			return allowed("✓[12]")
		case "9":
			// footnote [9]: only keys that can have imported material.
			if !imported {
				return unsupported("✓[9], origin cannot import")
			}
			return allowed("✓[9]")
		}
	case "?":
		switch c.notes {
		case "7":
			// footnote [7] with decision D2a: custom key store or imported
			// key material → UnsupportedOperationException.
			if inCustomKeyStore || imported {
				return unsupported("?[7], D2a")
			}
			return allowed("?[7]")
		case "9":
			// footnote [9].
			if !imported {
				return unsupported("?[9], origin cannot import")
			}
			return allowed("?[9]")
		case "10":
			// footnote [10]: the row is checked for the destination key, which
			// is refused when pending deletion.
			return invalid(" is pending deletion.", "?[10]")
		}
	case "✗":
		switch c.notes {
		case "1", "1 or 7":
			// footnote [1]; "[1] or [7]": the state footnote wins (decision D3,
			// and the recording of a Disabled RSA key).
			return outcome{code: keystate.ErrDisabled, msg: testARN + " is disabled.", why: "✗[" + c.notes + "], D3"}
		case "3", "2 or 3", "3 or 7":
			// footnote [3]; "[2] or [3]" is [3] by decision D17; "[3] or [7]"
			// is [3] by decision D3. Message as recorded (D19).
			return invalid(" is pending deletion.", "✗["+c.notes+"], D17, D3")
		case "4", "4,13":
			// footnote [4] (footnote [13] only explains the column).
			return invalid(" is not pending deletion.", "✗[4]")
		case "5":
			// footnote [5], in the wording of decision D19.
			return invalid(" is pending import.", "✗[5], D19")
		case "6":
			// footnote [6]: the message names EXTERNAL.
			return outcome{code: keystate.ErrUnsupportedOperation,
				msg: testARN + " origin is EXTERNAL which is not valid for this operation.", why: "✗[6]"}
		case "7":
			// footnote [7]: only custom key store keys can be in the states
			// where it stands alone (Unavailable).
			if !inCustomKeyStore {
				t.Fatalf("✗[7] for origin %s: not a custom key store key; the test should not ask", originNames[origin])
			}
			return unsupported("✗[7]")
		case "8 or 9":
			// footnote [8] for a key that can have imported material, [9]
			// otherwise (Check's doc comment). [8] gives the state's message.
			if imported {
				return invalid(stateSuffix[s], "✗[8]")
			}
			return unsupported("✗[9]")
		case "9":
			// footnote [9]; a key that can have imported material gets the
			// state's own KMSInvalidStateException (Check's doc comment).
			if imported {
				return invalid(stateSuffix[s], "✗[9], imported")
			}
			return unsupported("✗[9]")
		case "11":
			return invalid(" is unavailable.", "✗[11]")
		case "14":
			return invalid(" is creating.", "✗[14]")
		case "15":
			return invalid(" is updating.", "✗[15]")
		}
	}
	t.Fatalf("no rule for cell %s%s", c.mark, c.notes)
	return outcome{}
}

// kindForOperation is the key kind the table test uses for an operation: a
// symmetric encryption, customer managed, single-Region key of the given
// origin, except where the operation needs another kind (checked after the
// table, decision D3 step 7), so that the kind rules never decide a cell.
func kindForOperation(op string, origin keystate.Origin) keystate.Kind {
	k := keystate.Kind{Spec: keystate.SymmetricDefault, Usage: keystate.EncryptDecrypt,
		Origin: origin, Manager: keystate.Customer, MultiRegion: keystate.SingleRegion}
	switch op {
	case "Sign", "Verify":
		k.Spec, k.Usage = keystate.RSA2048, keystate.SignVerify
	case "GenerateMac", "VerifyMac":
		k.Spec, k.Usage = keystate.HMAC256, keystate.GenerateVerifyMAC
	case "DeriveSharedSecret":
		k.Spec, k.Usage = keystate.ECCNISTP256, keystate.KeyAgreement
	case "GetPublicKey":
		k.Spec, k.Usage = keystate.RSA2048, keystate.EncryptDecrypt
	case "ReplicateKey", "UpdatePrimaryRegion":
		k.MultiRegion = keystate.Primary
	}
	return k
}

// stateFitsOrigin reports whether a key of this origin can be in state s
// (aws-kms-behaviour.md a.1): PendingImport only for EXTERNAL keys,
// Unavailable only for keys in a custom key store.
func stateFitsOrigin(s keystate.State, o keystate.Origin) bool {
	switch s {
	case keystate.PendingImport:
		return o == keystate.External
	case keystate.Unavailable:
		return o == keystate.AWSCloudHSM || o == keystate.ExternalKeyStore
	}
	return true
}

// checkOutcome asserts that err is exactly want, for Check(op, s, _, testARN).
func checkOutcome(t *testing.T, ctx string, err error, want outcome, op keystate.Operation, s keystate.State) {
	t.Helper()
	if want.code == "" {
		if err != nil {
			t.Errorf("%s: got %v, want %s", ctx, err, want)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: allowed, want %s", ctx, want)
		return
	}
	if !errors.Is(err, want.code) {
		t.Errorf("%s: errors.Is(%v, %s) is false; want %s", ctx, err, want.code, want)
	}
	var e *keystate.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %T is not a *keystate.Error", ctx, err)
		return
	}
	if e.Code != want.code || e.Message != want.msg {
		t.Errorf("%s: got %s %q, want %s", ctx, e.Code, e.Message, want)
	}
	if e.Op != op || e.KeyID != testARN || e.State != s {
		t.Errorf("%s: got Op=%v KeyID=%q State=%v, want Op=%v KeyID=%q State=%v",
			ctx, e.Op, e.KeyID, e.State, op, testARN, s)
	}
}

// TestStateTableAsPublished checks Check against every cell of the AWS
// key-state table (testdata/key-state-table.md), for an AWS_KMS, an EXTERNAL,
// an AWS_CLOUDHSM and an EXTERNAL_KEY_STORE key.
func TestStateTableAsPublished(t *testing.T) {
	tab := readPublishedTable(t)

	if len(tab.columns) != len(wantColumns) {
		t.Fatalf("%d state columns, want %d", len(tab.columns), len(wantColumns))
	}
	for i := range wantColumns {
		if !equalStates(tab.columns[i], wantColumns[i]) {
			t.Fatalf("column %d covers %v, want %v", i, tab.columns[i], wantColumns[i])
		}
	}

	// The rows: exactly the published operations, each a keystate
	// Operation, in the order of TableOperations.
	if len(tab.rows) != publishedTableRows {
		t.Errorf("saw %d operation rows, want %d", len(tab.rows), publishedTableRows)
	}
	listed := keystate.TableOperations()
	if len(listed) != len(tab.rows) {
		t.Errorf("TableOperations lists %d operations, the table has %d rows", len(listed), len(tab.rows))
	}
	ops := make([]keystate.Operation, len(tab.rows))
	for i, row := range tab.rows {
		op, ok := keystate.ParseOperation(row.name)
		if !ok {
			t.Fatalf("line %d: ParseOperation(%q) failed", row.line, row.name)
		}
		if op.String() != row.name {
			t.Errorf("line %d: ParseOperation(%q).String() = %q", row.line, row.name, op)
		}
		ops[i] = op
		if i < len(listed) && listed[i] != op {
			t.Errorf("TableOperations()[%d] = %v, table row %d is %s", i, listed[i], i, row.name)
		}
	}

	origins := []keystate.Origin{keystate.AWSKMS, keystate.External, keystate.AWSCloudHSM, keystate.ExternalKeyStore}
	covered := map[[2]int]int{}        // (row, column) → kinds that checked it
	seen := map[string]map[bool]bool{} // conditional footnote → outcomes seen (true = refused)
	checked := 0
	for _, origin := range origins {
		t.Run(originNames[origin], func(t *testing.T) {
			for i, row := range tab.rows {
				op := ops[i]
				kind := kindForOperation(row.name, origin)
				for col, states := range tab.columns {
					c := parsePublishedCell(t, row, col)
					for _, s := range states {
						if !stateFitsOrigin(s, origin) {
							continue
						}
						want := expectedOutcome(t, c, s, origin)
						err := keystate.Check(op, s, kind, testARN)
						checkOutcome(t, row.name+" in "+s.String(), err, want, op, s)
						checked++
						covered[[2]int{i, col}]++
						switch c.notes {
						case "7", "9", "8 or 9", "10", "1 or 7", "3 or 7":
							if seen[c.notes] == nil {
								seen[c.notes] = map[bool]bool{}
							}
							seen[c.notes][want.code != ""] = true
						}
					}
				}
			}
		})
	}

	// Every cell was checked for at least one kind.
	for i, row := range tab.rows {
		for col := range tab.columns {
			if covered[[2]int{i, col}] == 0 {
				t.Errorf("%s, column %v: no kind checked this cell", row.name, tab.columns[col])
			}
		}
	}
	// The conditional footnotes were exercised both ways where they can be.
	for _, want := range []struct {
		notes            string
		allowed, refused bool
	}{
		{"7", true, true},       // footnote [7]: AWS_KMS allowed; custom key store and EXTERNAL (D2a) refused
		{"9", true, true},       // footnote [9]: EXTERNAL allowed; others refused
		{"8 or 9", false, true}, // footnotes [8] (EXTERNAL) and [9] (others) both refuse
		{"10", false, true},     // footnote [10]
		{"1 or 7", false, true},
		{"3 or 7", false, true},
	} {
		if want.allowed && !seen[want.notes][false] || want.refused && !seen[want.notes][true] {
			t.Errorf("footnote(s) %s: outcomes seen %v, want allowed=%v refused=%v", want.notes, seen[want.notes], want.allowed, want.refused)
		}
	}
	t.Logf("%d rows, %d (operation, state, kind) checks", len(tab.rows), checked)
}

func equalStates(a, b []keystate.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCheckOperationsWithoutKey: the operations the table leaves out take no
// existing key, and Check accepts them in every state (aws-kms-behaviour.md
// a.2: "CreateKey, ListKeys, GenerateRandom and the custom-key-store
// operations are left out").
func TestCheckOperationsWithoutKey(t *testing.T) {
	for _, name := range []string{"CreateKey", "ListKeys", "GenerateRandom", "CreateCustomKeyStore",
		"ConnectCustomKeyStore", "DeleteCustomKeyStore", "DescribeCustomKeyStores",
		"DisconnectCustomKeyStore", "UpdateCustomKeyStore"} {
		op, ok := keystate.ParseOperation(name)
		if !ok {
			t.Errorf("ParseOperation(%q) failed", name)
			continue
		}
		for _, s := range append(keystate.States(), keystate.None, keystate.Deleted) {
			if err := keystate.Check(op, s, keystate.Kind{}, testARN); err != nil {
				t.Errorf("Check(%s, %v) = %v, want nil", name, s, err)
			}
		}
	}
}

// TestDecisionD54EncapsulationRow: Encapsulate and Decapsulate, which the
// published table has no rows for, are decided in every state as
// DeriveSharedSecret is for a key of their usage (the same exception and
// message, naming the operation), and a key of another usage is
// InvalidKeyUsageException.
func TestDecisionD54EncapsulationRow(t *testing.T) {
	kem := keystate.Kind{Spec: keystate.MLKEM768, Usage: keystate.EncapsulateDecapsulate}
	agree := keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.KeyAgreement}
	for _, name := range []string{"Encapsulate", "Decapsulate"} {
		op, ok := keystate.ParseOperation(name)
		if !ok || op.String() != name {
			t.Fatalf("ParseOperation(%q) = %v, %v", name, op, ok)
		}
		for _, s := range append(keystate.States(), keystate.None, keystate.Deleted) {
			got := keystate.Check(op, s, kem, testARN)
			want := keystate.Check(keystate.DeriveSharedSecret, s, agree, testARN)
			if (got == nil) != (want == nil) {
				t.Fatalf("%s in %v: %v, DeriveSharedSecret %v", name, s, got, want)
			}
			if got == nil {
				continue
			}
			var g, w *keystate.Error
			if !errors.As(got, &g) || !errors.As(want, &w) || g.Code != w.Code || g.Op != op ||
				g.Message != strings.ReplaceAll(w.Message, "DeriveSharedSecret", name) {
				t.Errorf("%s in %v: %v; DeriveSharedSecret: %v", name, s, got, want)
			}
		}
		err := keystate.Check(op, keystate.Enabled, agree, testARN)
		if !errors.Is(err, keystate.ErrInvalidKeyUsage) || err.Error() == "" ||
			!strings.Contains(err.Error(), "key usage is KEY_AGREEMENT which is not valid for "+name+".") {
			t.Errorf("%s on a KEY_AGREEMENT key: %v", name, err)
		}
	}
	if err := keystate.Check(keystate.Encapsulate, keystate.Disabled, kem, testARN); !errors.Is(err, keystate.ErrDisabled) {
		t.Errorf("Encapsulate on a Disabled key: %v, want DisabledException", err)
	}
}

// TestCheckUnknownOperation: an operation that is not an AWS operation is an
// input error (decision D3 step 1, ValidationException).
func TestCheckUnknownOperation(t *testing.T) {
	for _, op := range []keystate.Operation{keystate.NoOperation, keystate.Operation(200)} {
		err := keystate.Check(op, keystate.Enabled, keystate.Kind{}, testARN)
		if !errors.Is(err, keystate.ErrValidation) {
			t.Errorf("Check(%d) = %v, want ValidationException", uint8(op), err)
		}
	}
}

// kindCase is one row of TestKindRules.
type kindCase struct {
	name  string // includes the decision or footnote it checks
	op    keystate.Operation
	state keystate.State
	kind  keystate.Kind
	code  keystate.Exception // "" = allowed
	msg   string
	check msgCheck
}

// msgCheck says how TestKindRules checks a message.
type msgCheck uint8

const (
	// arnFirst: no message is recorded; decision D19 asks for one in the
	// recorded style, which starts with the key ARN.
	arnFirst msgCheck = iota
	// exact: the message is recorded or decided.
	exact
	// emptyOrARNFirst: unrecorded, but the same error class as a recorded
	// empty message (D19: RotateKeyOnDemand on an asymmetric key).
	emptyOrARNFirst
)

// Kinds used by TestKindRules.
var (
	symmetricKey = keystate.Kind{}
	rsaEncrypt   = keystate.Kind{Spec: keystate.RSA2048, Usage: keystate.EncryptDecrypt}
	rsaSign      = keystate.Kind{Spec: keystate.RSA2048, Usage: keystate.SignVerify}
	eccSign      = keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify}
	eccAgree     = keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.KeyAgreement}
	mlDSA        = keystate.Kind{Spec: keystate.MLDSA65, Usage: keystate.SignVerify}
	sm2Encrypt   = keystate.Kind{Spec: keystate.SM2, Usage: keystate.EncryptDecrypt}
	hmacKey      = keystate.Kind{Spec: keystate.HMAC256, Usage: keystate.GenerateVerifyMAC}
	replicaKey   = keystate.Kind{MultiRegion: keystate.Replica}
	primaryKey   = keystate.Kind{MultiRegion: keystate.Primary}
	cloudHSMKey  = keystate.Kind{Origin: keystate.AWSCloudHSM}
	xksKey       = keystate.Kind{Origin: keystate.ExternalKeyStore}
	externalKey  = keystate.Kind{Origin: keystate.External}
	awsManaged   = keystate.Kind{Manager: keystate.AWSManaged}
)

func originMessage(origin string) string {
	return testARN + " origin is " + origin + " which is not valid for this operation."
}

// TestKindRules checks the rules Check applies after the key-state table:
// unsupported key kinds (D8, D15), imported material (D2), key usage, and
// the order of checks (D3).
func TestKindRules(t *testing.T) {
	const (
		unsupported = keystate.ErrUnsupportedOperation
		usage       = keystate.ErrInvalidKeyUsage
	)
	rotation := []keystate.Operation{keystate.RotateKeyOnDemand, keystate.EnableKeyRotation, keystate.DisableKeyRotation}
	var cases []kindCase
	for _, op := range rotation {
		n := op.String()
		cases = append(cases,
			// decision D8: asymmetric, HMAC, replica, custom key store.
			// decision D19: an asymmetric key gets an empty message (recorded
			// for RotateKeyOnDemand; the same refusal for the other two).
			kindCase{name: "D8 D19 " + n + " RSA", op: op, state: keystate.Enabled, kind: rsaEncrypt, code: unsupported, check: exact},
			kindCase{name: "D8 D19 " + n + " ECC", op: op, state: keystate.Enabled, kind: eccSign, code: unsupported, check: exact},
			kindCase{name: "D8 D19 " + n + " ML-DSA", op: op, state: keystate.Enabled, kind: mlDSA, code: unsupported, check: exact},
			kindCase{name: "D8 " + n + " HMAC", op: op, state: keystate.Enabled, kind: hmacKey, code: unsupported, check: emptyOrARNFirst},
			kindCase{name: "D8 " + n + " replica", op: op, state: keystate.Enabled, kind: replicaKey, code: unsupported},
			// decision D8 and footnote [7]: custom key store keys.
			kindCase{name: "D8 footnote [7] " + n + " AWS_CLOUDHSM", op: op, state: keystate.Enabled, kind: cloudHSMKey,
				code: unsupported, msg: originMessage("AWS_CLOUDHSM"), check: exact},
			kindCase{name: "D8 footnote [7] " + n + " EXTERNAL_KEY_STORE", op: op, state: keystate.Enabled, kind: xksKey,
				code: unsupported, msg: originMessage("EXTERNAL_KEY_STORE"), check: exact},
			// decision D15: AWS managed keys.
			kindCase{name: "D15 " + n + " AWS managed", op: op, state: keystate.Enabled, kind: awsManaged, code: unsupported},
			// The supported kinds: symmetric customer managed keys, and the
			// primary of a multi-Region key (c.1, c.2: set on the primary).
			kindCase{name: "D8 " + n + " symmetric", op: op, state: keystate.Enabled, kind: symmetricKey},
			kindCase{name: "D8 " + n + " multi-Region primary", op: op, state: keystate.Enabled, kind: primaryKey},
		)
	}
	cases = append(cases,
		// decision D8: GetKeyRotationStatus on asymmetric and HMAC keys is
		// answered (KeyRotationEnabled false), not refused.
		kindCase{name: "D8 GetKeyRotationStatus RSA", op: keystate.GetKeyRotationStatus, state: keystate.Enabled, kind: rsaSign},
		kindCase{name: "D8 GetKeyRotationStatus HMAC", op: keystate.GetKeyRotationStatus, state: keystate.Enabled, kind: hmacKey},

		// decision D15: the rest of the AWS managed key rules.
		kindCase{name: "D15 ScheduleKeyDeletion AWS managed", op: keystate.ScheduleKeyDeletion, state: keystate.Enabled, kind: awsManaged, code: unsupported},
		kindCase{name: "D15 EnableKey AWS managed", op: keystate.EnableKey, state: keystate.Enabled, kind: awsManaged, code: unsupported},
		kindCase{name: "D15 DisableKey AWS managed", op: keystate.DisableKey, state: keystate.Enabled, kind: awsManaged, code: unsupported},
		kindCase{name: "D15 GetKeyRotationStatus AWS managed", op: keystate.GetKeyRotationStatus, state: keystate.Enabled, kind: awsManaged},
		kindCase{name: "D15 Encrypt AWS managed", op: keystate.Encrypt, state: keystate.Enabled, kind: awsManaged},
		kindCase{name: "D15 DescribeKey AWS managed", op: keystate.DescribeKey, state: keystate.Enabled, kind: awsManaged},

		// decision D3: the key-state table runs before the kind rules.
		kindCase{name: "D3 recorded: Disabled RSA RotateKeyOnDemand", op: keystate.RotateKeyOnDemand,
			state: keystate.Disabled, kind: rsaEncrypt, code: keystate.ErrDisabled, msg: testARN + " is disabled.", check: exact},
		kindCase{name: "D3 recorded: EXTERNAL PendingImport RotateKeyOnDemand", op: keystate.RotateKeyOnDemand,
			state: keystate.PendingImport, kind: externalKey, code: keystate.ErrKMSInvalidState, msg: testARN + " is pending import.", check: exact},
		kindCase{name: "D3 D17 PendingDeletion HMAC RotateKeyOnDemand", op: keystate.RotateKeyOnDemand,
			state: keystate.PendingDeletion, kind: hmacKey, code: keystate.ErrKMSInvalidState, msg: testARN + " is pending deletion.", check: exact},
		kindCase{name: "D3 footnote [14] Creating replica RotateKeyOnDemand", op: keystate.RotateKeyOnDemand,
			state: keystate.Creating, kind: replicaKey, code: keystate.ErrKMSInvalidState, msg: testARN + " is creating.", check: exact},
		kindCase{name: "D3 D15 PendingDeletion AWS managed ScheduleKeyDeletion", op: keystate.ScheduleKeyDeletion,
			state: keystate.PendingDeletion, kind: awsManaged, code: keystate.ErrKMSInvalidState, msg: testARN + " is pending deletion.", check: exact},
		kindCase{name: "D3 D15 Disabled AWS managed EnableKey", op: keystate.EnableKey,
			state: keystate.Disabled, kind: awsManaged, code: unsupported},
		kindCase{name: "D3 Disabled HMAC Encrypt", op: keystate.Encrypt,
			state: keystate.Disabled, kind: hmacKey, code: keystate.ErrDisabled, msg: testARN + " is disabled.", check: exact},
		kindCase{name: "D3 D17 PendingDeletion symmetric GenerateMac", op: keystate.GenerateMac,
			state: keystate.PendingDeletion, kind: symmetricKey, code: keystate.ErrKMSInvalidState, msg: testARN + " is pending deletion.", check: exact},

		// decision D2 (and D2a, footnote [7]): imported key material.
		kindCase{name: "D2 EXTERNAL Enabled RotateKeyOnDemand", op: keystate.RotateKeyOnDemand,
			state: keystate.Enabled, kind: externalKey, code: unsupported, msg: originMessage("EXTERNAL"), check: exact},
		kindCase{name: "D2a EXTERNAL Enabled EnableKeyRotation", op: keystate.EnableKeyRotation,
			state: keystate.Enabled, kind: externalKey, code: unsupported, msg: originMessage("EXTERNAL"), check: exact},
		kindCase{name: "D2a EXTERNAL Enabled GetKeyRotationStatus", op: keystate.GetKeyRotationStatus,
			state: keystate.Enabled, kind: externalKey, code: unsupported, msg: originMessage("EXTERNAL"), check: exact},
		kindCase{name: "footnote [6] EXTERNAL PendingImport GetKeyRotationStatus", op: keystate.GetKeyRotationStatus,
			state: keystate.PendingImport, kind: externalKey, code: unsupported, msg: originMessage("EXTERNAL"), check: exact},

		// Key usage (d.1: one usage per key; each cryptographic operation
		// needs its own) → InvalidKeyUsageException.
		kindCase{name: "usage Encrypt HMAC", op: keystate.Encrypt, state: keystate.Enabled, kind: hmacKey, code: usage},
		kindCase{name: "usage Decrypt RSA SIGN_VERIFY", op: keystate.Decrypt, state: keystate.Enabled, kind: rsaSign, code: usage},
		kindCase{name: "usage GenerateDataKey RSA ENCRYPT_DECRYPT", op: keystate.GenerateDataKey, state: keystate.Enabled, kind: rsaEncrypt, code: usage},
		kindCase{name: "usage GenerateDataKeyPair RSA ENCRYPT_DECRYPT", op: keystate.GenerateDataKeyPair, state: keystate.Enabled, kind: rsaEncrypt, code: usage},
		kindCase{name: "usage GenerateMac symmetric", op: keystate.GenerateMac, state: keystate.Enabled, kind: symmetricKey, code: usage},
		kindCase{name: "usage VerifyMac RSA", op: keystate.VerifyMac, state: keystate.Enabled, kind: rsaSign, code: usage},
		kindCase{name: "usage Sign RSA ENCRYPT_DECRYPT", op: keystate.Sign, state: keystate.Enabled, kind: rsaEncrypt, code: usage},
		kindCase{name: "usage Verify symmetric", op: keystate.Verify, state: keystate.Enabled, kind: symmetricKey, code: usage},
		kindCase{name: "usage DeriveSharedSecret ECC SIGN_VERIFY", op: keystate.DeriveSharedSecret, state: keystate.Enabled, kind: eccSign, code: usage},
		// ... and the usages that fit.
		kindCase{name: "usage Encrypt RSA ENCRYPT_DECRYPT", op: keystate.Encrypt, state: keystate.Enabled, kind: rsaEncrypt},
		kindCase{name: "usage Decrypt SM2 ENCRYPT_DECRYPT", op: keystate.Decrypt, state: keystate.Enabled, kind: sm2Encrypt},
		kindCase{name: "usage GenerateDataKey symmetric", op: keystate.GenerateDataKey, state: keystate.Enabled, kind: symmetricKey},
		kindCase{name: "usage GenerateMac HMAC", op: keystate.GenerateMac, state: keystate.Enabled, kind: hmacKey},
		kindCase{name: "usage Sign ML-DSA", op: keystate.Sign, state: keystate.Enabled, kind: mlDSA},
		kindCase{name: "usage DeriveSharedSecret ECC KEY_AGREEMENT", op: keystate.DeriveSharedSecret, state: keystate.Enabled, kind: eccAgree},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := keystate.Check(tc.op, tc.state, tc.kind, testARN)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Check(%v, %v, %+v) = %v, want nil", tc.op, tc.state, tc.kind, err)
				}
				return
			}
			if !errors.Is(err, tc.code) {
				t.Fatalf("Check(%v, %v, %+v) = %v, want %s", tc.op, tc.state, tc.kind, err, tc.code)
			}
			var e *keystate.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not a *keystate.Error", err)
			}
			if e.Op != tc.op || e.KeyID != testARN || e.State != tc.state {
				t.Errorf("got Op=%v KeyID=%q State=%v, want %v %q %v", e.Op, e.KeyID, e.State, tc.op, testARN, tc.state)
			}
			startsWithARN := strings.HasPrefix(e.Message, testARN+" ")
			switch tc.check {
			case exact:
				if e.Message != tc.msg {
					t.Errorf("message %q, want %q", e.Message, tc.msg)
				}
			case arnFirst:
				if !startsWithARN {
					t.Errorf("message %q does not start with the key ARN (D19)", e.Message)
				}
			case emptyOrARNFirst:
				if e.Message != "" && !startsWithARN {
					t.Errorf("message %q is neither empty nor starts with the key ARN (D19)", e.Message)
				}
			}
		})
	}
}

// TestCheckKeyThatDoesNotExist: decision D7, a deleted key (and one not yet
// created) is not found by any operation on an existing key.
func TestCheckKeyThatDoesNotExist(t *testing.T) {
	for _, op := range keystate.TableOperations() {
		for _, s := range []keystate.State{keystate.None, keystate.Deleted} {
			err := keystate.Check(op, s, keystate.Kind{}, testARN)
			if !errors.Is(err, keystate.ErrNotFound) || err.Error() != "NotFoundException: Key '"+testARN+"' does not exist" {
				t.Errorf("Check(%s, %q) = %v; want NotFoundException (D7)", op, s, err)
			}
		}
	}
}
