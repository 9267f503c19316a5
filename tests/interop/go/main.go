// Command custody-interop checks a custody ledger's checkpoints, a leaf and its proofs with Go's
// own transparency-log code: golang.org/x/mod/sumdb/note (C2SP signed notes) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 hashing and proofs), used unmodified. Nothing here is
// shared with the Rust implementation, so agreement means the formats in docs/FORMAT.md are
// what custody actually writes.
//
// Usage:
//
//	custody-interop VKEY CHECKPOINT OLD_CHECKPOINT LEAF SEQ INCLUSION_JSON CONSISTENCY_JSON
//
//	VKEY            the verifier key string (`custody vkey`), or a file holding it
//	CHECKPOINT      a signed checkpoint note (`custody checkpoint`)
//	OLD_CHECKPOINT  an earlier signed checkpoint note of the same log
//	LEAF            raw leaf bytes (`custody entry SEQ`)
//	SEQ             the leaf's index in the log
//	INCLUSION_JSON  `custody prove inclusion SEQ` for the tree of CHECKPOINT
//	CONSISTENCY_JSON `custody prove consistency OLD NEW` between the two checkpoints
//
// Prints "OK" and exits 0 when every check passes; otherwise prints "FAIL: <reason>" to
// standard error and exits 1.
//
// Build without network access from Debian's golang-golang-x-mod-dev (GOPATH mode):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o custody-interop tests/interop/go/main.go
package main

import (
	"bytes"
	"crypto/sha256"
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

// checkpoint is the body of a C2SP tlog-checkpoint note.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

type inclusionProof struct {
	Index    *int64   `json:"index"`
	TreeSize *int64   `json:"tree_size"`
	LeafHash *string  `json:"leaf_hash"`
	Hashes   []string `json:"hashes"`
}

type consistencyProof struct {
	OldSize *int64   `json:"old_size"`
	NewSize *int64   `json:"new_size"`
	Hashes  []string `json:"hashes"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("OK")
}

func run(args []string) error {
	if len(args) != 7 {
		return fmt.Errorf("usage: custody-interop VKEY CHECKPOINT OLD_CHECKPOINT LEAF SEQ INCLUSION_JSON CONSISTENCY_JSON (got %d arguments)", len(args))
	}
	vkeyArg, cpPath, oldPath, leafPath, seqArg, inclPath, consPath := args[0], args[1], args[2], args[3], args[4], args[5], args[6]

	vkey, err := readVkey(vkeyArg)
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)

	cp, err := openCheckpoint(cpPath, verifier.Name(), verifiers)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %v", cpPath, err)
	}
	old, err := openCheckpoint(oldPath, verifier.Name(), verifiers)
	if err != nil {
		return fmt.Errorf("old checkpoint %s: %v", oldPath, err)
	}

	seq, err := strconv.ParseInt(seqArg, 10, 64)
	if err != nil || seq < 0 {
		return fmt.Errorf("seq %q is not a non-negative integer", seqArg)
	}
	leaf, err := os.ReadFile(leafPath)
	if err != nil {
		return err
	}
	if err := checkInclusion(inclPath, leaf, seq, cp); err != nil {
		return fmt.Errorf("inclusion proof %s: %v", inclPath, err)
	}
	if err := checkLeafSeq(leaf, seq); err != nil {
		return fmt.Errorf("leaf %s: %v", leafPath, err)
	}
	if err := checkConsistency(consPath, old, cp); err != nil {
		return fmt.Errorf("consistency proof %s: %v", consPath, err)
	}
	return nil
}

// readVkey accepts the key string itself or a file holding it (as `custody vkey > FILE` writes).
func readVkey(arg string) (string, error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		b, err := os.ReadFile(arg)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return arg, nil
}

// openCheckpoint verifies the note's signature with note.Open, then parses its text as a
// tlog-checkpoint: origin line, decimal tree size, standard base64 root hash, optional
// extension lines. The origin must equal the verifier key's name.
func openCheckpoint(path, keyName string, verifiers note.Verifiers) (checkpoint, error) {
	var cp checkpoint
	msg, err := os.ReadFile(path)
	if err != nil {
		return cp, err
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return cp, fmt.Errorf("note.Open: %v", err)
	}
	if len(n.Sigs) == 0 {
		return cp, errors.New("note.Open verified no signature")
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if !strings.HasSuffix(n.Text, "\n") || len(lines) < 3 {
		return cp, fmt.Errorf("checkpoint text %q is not origin, size and root lines", n.Text)
	}
	cp.origin = lines[0]
	if cp.origin != keyName {
		return cp, fmt.Errorf("origin %q differs from the verifier key name %q", cp.origin, keyName)
	}
	if lines[1] == "" || (len(lines[1]) > 1 && lines[1][0] == '0') || strings.TrimLeft(lines[1], "0123456789") != "" {
		return cp, fmt.Errorf("tree size %q is not a decimal number without leading zeros", lines[1])
	}
	cp.size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return cp, fmt.Errorf("tree size %q: %v", lines[1], err)
	}
	cp.root, err = parseHash(lines[2])
	if err != nil {
		return cp, fmt.Errorf("root hash: %v", err)
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			return cp, fmt.Errorf("extension line %d is empty", i+1)
		}
	}
	return cp, nil
}

// parseHash decodes standard base64 of exactly 32 bytes into a tlog.Hash.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("%q is not standard base64: %v", s, err)
	}
	if len(b) != tlog.HashSize {
		return h, fmt.Errorf("%q decodes to %d bytes, not %d", s, len(b), tlog.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for i, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("hashes[%d]: %v", i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func readJSON(path string, v interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not the expected JSON: %v", err)
	}
	return nil
}

// checkInclusion hashes the raw leaf bytes with tlog.RecordHash (SHA-256(0x00 || leaf)) and
// checks the audit path with tlog.CheckRecord against the checkpoint's root.
func checkInclusion(path string, leaf []byte, seq int64, cp checkpoint) error {
	var p inclusionProof
	if err := readJSON(path, &p); err != nil {
		return err
	}
	if p.Index == nil || p.TreeSize == nil || p.LeafHash == nil || p.Hashes == nil {
		return errors.New("missing one of index, tree_size, leaf_hash, hashes")
	}
	if *p.Index != seq {
		return fmt.Errorf("index is %d, but the leaf is seq %d", *p.Index, seq)
	}
	if *p.TreeSize != cp.size {
		return fmt.Errorf("tree_size is %d, but the checkpoint's size is %d", *p.TreeSize, cp.size)
	}
	hashes, err := parseHashes(p.Hashes)
	if err != nil {
		return err
	}
	leafHash := tlog.RecordHash(leaf)
	if err := tlog.CheckRecord(tlog.RecordProof(hashes), cp.size, cp.root, seq, leafHash); err != nil {
		return fmt.Errorf("tlog.CheckRecord(seq %d, size %d): %v", seq, cp.size, err)
	}
	claimed, err := parseHash(*p.LeafHash)
	if err != nil {
		return fmt.Errorf("leaf_hash: %v", err)
	}
	if claimed != leafHash {
		return fmt.Errorf("leaf_hash %s differs from tlog.RecordHash of the leaf, %s", claimed, leafHash)
	}
	return nil
}

// checkLeafSeq checks that the leaf says it is the seq it was proven at.
func checkLeafSeq(leaf []byte, seq int64) error {
	var l struct {
		Seq *int64 `json:"seq"`
	}
	if err := json.Unmarshal(leaf, &l); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if l.Seq == nil || *l.Seq != seq {
		return fmt.Errorf("the leaf's seq field is not %d", seq)
	}
	return nil
}

// checkConsistency checks with tlog.CheckTree that the newer checkpoint's tree extends the
// older one's.
func checkConsistency(path string, old, cp checkpoint) error {
	var p consistencyProof
	if err := readJSON(path, &p); err != nil {
		return err
	}
	if p.OldSize == nil || p.NewSize == nil || p.Hashes == nil {
		return errors.New("missing one of old_size, new_size, hashes")
	}
	if *p.OldSize != old.size || *p.NewSize != cp.size {
		return fmt.Errorf("proof is for sizes %d -> %d, but the checkpoints have sizes %d -> %d", *p.OldSize, *p.NewSize, old.size, cp.size)
	}
	hashes, err := parseHashes(p.Hashes)
	if err != nil {
		return err
	}
	if old.size == 0 {
		// Every tree extends the empty one; tlog.CheckTree takes sizes of at least 1.
		if len(hashes) != 0 || old.root != tlog.Hash(sha256.Sum256(nil)) {
			return errors.New("a proof from the empty tree must be empty and the old root SHA-256 of nothing")
		}
		return nil
	}
	if err := tlog.CheckTree(tlog.TreeProof(hashes), cp.size, cp.root, old.size, old.root); err != nil {
		return fmt.Errorf("tlog.CheckTree(%d -> %d): %v", old.size, cp.size, err)
	}
	return nil
}
