// Command custody-bundle-check checks a custody evidence bundle (`custody bundle export`) with
// Go's own transparency-log code, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog,
// used unmodified: the checkpoint's signature by the ledger's verifier key, and the inclusion of
// every leaf in the signed tree. It shares nothing with the Rust implementation. It does not
// check officer signatures, key validity or the custody rules (docs/VERIFYING.md says which tool
// does).
//
// Usage:
//
//	custody-bundle-check VKEY BUNDLE_JSON
//
//	VKEY         the verifier key string (`custody vkey`), or a file holding it, obtained from a
//	             channel the verifier trusts (never the bundle's own copy)
//	BUNDLE_JSON  the bundle file (docs/FORMAT.md §11b)
//
// Prints one line for the checkpoint, one per entry ("seq N: leaf hash H in tree of size S") and
// "OK: ..." and exits 0 when every check passes; otherwise prints "FAIL: <reason>" to standard
// error and exits 1.
//
// Build without network access from Debian's golang-golang-x-mod-dev (GOPATH mode):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o custody-bundle-check tests/interop/go/bundle/main.go
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type entry struct {
	Seq   *int64   `json:"seq"`
	Leaf  *string  `json:"leaf"`
	Proof []string `json:"proof"`
}

// bundle holds the fields this program checks; the others are custody's business.
type bundle struct {
	Origin     string  `json:"origin"`
	Checkpoint string  `json:"checkpoint"`
	Entries    []entry `json:"entries"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: custody-bundle-check VKEY BUNDLE_JSON (got %d arguments)", len(args))
	}
	vkey := args[0]
	if b, err := os.ReadFile(vkey); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	raw, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("bundle: not JSON: %v", err)
	}
	size, root, err := openCheckpoint(b.Checkpoint, verifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	if b.Origin != verifier.Name() {
		return fmt.Errorf("bundle origin %q is not the verifier key's name %q", b.Origin, verifier.Name())
	}
	fmt.Printf("checkpoint: %s, size %d, root %s, signature verified\n", verifier.Name(), size, root)
	if len(b.Entries) == 0 {
		return errors.New("the bundle has no entries")
	}
	for i, e := range b.Entries {
		if err := checkEntry(e, size, root); err != nil {
			return fmt.Errorf("entries[%d]: %v", i, err)
		}
	}
	fmt.Printf("OK: %d entries included in the signed tree of size %d\n", len(b.Entries), size)
	return nil
}

// openCheckpoint verifies the note with note.Open and parses its text (origin, size, root).
func openCheckpoint(text string, verifier note.Verifier) (int64, tlog.Hash, error) {
	var root tlog.Hash
	n, err := note.Open([]byte(text), note.VerifierList(verifier))
	if err != nil {
		return 0, root, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		return 0, root, fmt.Errorf("text %q is not this log's origin, size and root", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 1 {
		return 0, root, fmt.Errorf("size %q", lines[1])
	}
	root, err = decodeHash(lines[2])
	return size, root, err
}

func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%q is not base64 of %d bytes", s, tlog.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// checkEntry hashes the leaf bytes with tlog.RecordHash (SHA-256 of 0x00 || leaf), checks its
// proof with tlog.CheckRecord against the checkpoint, and that the leaf says it is at its seq.
func checkEntry(e entry, size int64, root tlog.Hash) error {
	if e.Seq == nil || e.Leaf == nil {
		return errors.New("missing seq or leaf")
	}
	seq := *e.Seq
	leaf, err := base64.StdEncoding.Strict().DecodeString(*e.Leaf)
	if err != nil {
		return fmt.Errorf("seq %d: the leaf is not base64: %v", seq, err)
	}
	proof := make(tlog.RecordProof, 0, len(e.Proof))
	for _, s := range e.Proof {
		h, err := decodeHash(s)
		if err != nil {
			return fmt.Errorf("seq %d: proof: %v", seq, err)
		}
		proof = append(proof, h)
	}
	hash := tlog.RecordHash(leaf)
	if err := tlog.CheckRecord(proof, size, root, seq, hash); err != nil {
		return fmt.Errorf("seq %d: leaf hash %s is not in the signed tree of size %d: %v", seq, hash, size, err)
	}
	var l struct {
		Seq *int64 `json:"seq"`
	}
	if err := json.Unmarshal(leaf, &l); err != nil || l.Seq == nil || *l.Seq != seq {
		return fmt.Errorf("seq %d: the leaf does not say it is seq %d", seq, seq)
	}
	fmt.Printf("seq %d: leaf hash %s in tree of size %d\n", seq, hash, size)
	return nil
}
