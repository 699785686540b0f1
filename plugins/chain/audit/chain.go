package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// The hash chain.
//
// Every line of the log is one JSON object that starts with the hash of
// the record before it and ends with its own hash:
//
//	{"prev":"sha256:<64 hex>", ...the entry's fields... ,"hash":"sha256:<64 hex>"}
//
// A record's hash is the SHA-256 of the line's exact bytes up to, not
// including, the `,"hash":` that ends it (so from the opening brace to
// the end of the last field before the hash). Its prev is the hash of the
// record on the line before it; the first record of a log has the prev
// [GenesisHash], the SHA-256 of the bytes of [Genesis]. The chain
// continues across rotation: the first record of a new file has the hash
// of the last record of the file rotated away.
//
// A changed byte anywhere in a record changes its hash (or breaks its
// form); a record removed, inserted or moved breaks the prev of the one
// after it. What a chain cannot show on its own is records cut off the
// end: [Verify] reports the number of records and the hash of the last,
// for comparison with a copy kept elsewhere.

// Genesis is the text whose SHA-256 is the prev of the first record.
const Genesis = "codexhost audit log v1"

// GenesisHash is the prev of the first record: "sha256:" and the
// lowercase hex SHA-256 of [Genesis].
var GenesisHash = hashOf([]byte(Genesis))

const (
	hashPrefix = "sha256:"
	hashLen    = len(hashPrefix) + 2*sha256.Size
	prevHead   = `{"prev":"`
	hashHead   = `,"hash":"`
	// lineTail is what follows the hash: the closing quote and brace.
	lineTail = `"}`
)

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hashPrefix + hex.EncodeToString(sum[:])
}

// chainLine makes the line (with its newline) of the encoded entry body
// (a JSON object without prev and hash) after the record whose hash is
// prev, and returns it with its own hash.
func chainLine(prev string, body []byte) (line []byte, hash string) {
	line = make([]byte, 0, len(prevHead)+hashLen+2+len(body)+len(hashHead)+hashLen+len(lineTail)+1)
	line = append(line, prevHead...)
	line = append(line, prev...)
	line = append(line, `",`...)
	line = append(line, body[1:len(body)-1]...) // the fields, without the braces
	hash = hashOf(line)
	line = append(line, hashHead...)
	line = append(line, hash...)
	line = append(line, lineTail...)
	line = append(line, '\n')
	return line, hash
}

// A BreakKind says how a record breaks the chain.
type BreakKind int

const (
	// BreakForm: the line is not a chained record: not JSON, torn (no
	// newline at the end of the file), or without its prev or hash.
	BreakForm BreakKind = iota + 1
	// BreakHash: the record's hash is not the hash of its bytes: the
	// record was changed.
	BreakHash
	// BreakPrev: the record's prev is not the hash of the record before
	// it: a record before it was removed, inserted or moved, or the first
	// record of the log is not the genesis.
	BreakPrev
)

func (k BreakKind) String() string {
	switch k {
	case BreakForm:
		return "form"
	case BreakHash:
		return "hash"
	case BreakPrev:
		return "prev"
	}
	return fmt.Sprintf("BreakKind(%d)", int(k))
}

// ErrBroken is matched (errors.Is) by every [*BrokenError].
var ErrBroken = errors.New("audit: hash chain broken")

// A BrokenError is the first record that breaks the chain.
type BrokenError struct {
	File string // as given to Verify
	Line int    // 1-based line number in File
	Kind BreakKind
	// Reason says what is wrong, in a sentence.
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Is makes errors.Is(err, ErrBroken) true.
func (e *BrokenError) Is(target error) bool { return target == ErrBroken }

// A Summary is what [Verify] read of an intact chain.
type Summary struct {
	// Records is the number of records.
	Records int
	// Head is the hash of the last record ([GenesisHash] if there is
	// none): compare it with a copy kept elsewhere to show that no
	// record was cut off the end.
	Head string
}

// VerifyOptions configure [Verify]. A nil *VerifyOptions means defaults.
type VerifyOptions struct {
	// Prev, if set, is the hash the first record's prev must be, instead
	// of GenesisHash: the Head of the file rotated before the first one,
	// verified (or kept) separately.
	Prev string
}

// Verify checks the hash chain of the log files at paths, oldest first
// (path.2, path.1, path for a rotated log), as one chain. It returns the
// summary of the chain, or an error: a [*BrokenError] (errors.Is
// ErrBroken) for the first record that breaks it, or the error of reading
// a file. It reads each file once, line by line.
func Verify(paths []string, opts *VerifyOptions) (Summary, error) {
	v := verifier{prev: GenesisHash}
	if opts != nil && opts.Prev != "" {
		v.prev = opts.Prev
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return v.summary(), fmt.Errorf("audit: %w", err)
		}
		err = v.file(p, f)
		_ = f.Close()
		if err != nil {
			return v.summary(), err
		}
	}
	return v.summary(), nil
}

type verifier struct {
	prev    string
	records int
}

func (v *verifier) summary() Summary { return Summary{Records: v.records, Head: v.prev} }

func (v *verifier) file(name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("audit: %s: %w", name, err)
		}
		broken := func(k BreakKind, format string, args ...any) error {
			return &BrokenError{File: name, Line: n, Kind: k, Reason: fmt.Sprintf(format, args...)}
		}
		if err == io.EOF {
			return broken(BreakForm, "the last line is torn (no newline at the end): the file was cut, or a write did not finish")
		}
		line = line[:len(line)-1]
		hash, prev, msg := parseLine(line)
		if msg != "" {
			return broken(BreakForm, "not a chained record: %s", msg)
		}
		if got := hashOf(line[:len(line)-len(hashHead)-hashLen-len(lineTail)]); got != hash {
			return broken(BreakHash, "the record was changed: its bytes hash to %s, not to its hash %s", got, hash)
		}
		if prev != v.prev {
			if v.records == 0 {
				return broken(BreakPrev, "prev is %s, want %s (the genesis, or VerifyOptions.Prev): records before this one are missing; for a rotated log, verify the files together, oldest first", prev, v.prev)
			}
			return broken(BreakPrev, "prev is %s, want %s, the hash of the record before it: a record was removed, inserted or moved here", prev, v.prev)
		}
		v.prev = hash
		v.records++
	}
}

// parseLine checks the form of a line (without its newline) and returns
// its hash and prev, or what is wrong with it.
func parseLine(line []byte) (hash, prev, msg string) {
	if !json.Valid(line) {
		return "", "", "not a JSON object"
	}
	if !bytes.HasPrefix(line, []byte(prevHead)) || len(line) < len(prevHead)+hashLen+2 {
		return "", "", `it does not start with {"prev":"sha256:...`
	}
	prev = string(line[len(prevHead) : len(prevHead)+hashLen])
	if !validHash(prev) || line[len(prevHead)+hashLen] != '"' {
		return "", "", "its prev is not sha256: and 64 lowercase hex digits"
	}
	end := len(line) - len(lineTail)
	start := end - hashLen
	if !bytes.HasSuffix(line, []byte(lineTail)) || start < len(hashHead) || !bytes.Equal(line[start-len(hashHead):start], []byte(hashHead)) {
		return "", "", `it does not end with ,"hash":"sha256:..."}`
	}
	hash = string(line[start:end])
	if !validHash(hash) {
		return "", "", "its hash is not sha256: and 64 lowercase hex digits"
	}
	return hash, prev, ""
}

func validHash(s string) bool {
	if len(s) != hashLen || s[:len(hashPrefix)] != hashPrefix {
		return false
	}
	for _, c := range []byte(s[len(hashPrefix):]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
