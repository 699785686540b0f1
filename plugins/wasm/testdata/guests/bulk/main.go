// Command bulk is a review test guest (guest_caps_test.go): it does what
// an ordinary Go guest does with a granted directory (large reads with
// os.ReadFile, bufio and ReadAt, a large os.ReadDir, many files open at
// once, many lines of output) and answers what it saw, so that the host
// can check it against the files. The granted directory is set at build
// time: -ldflags=-X=main.grantedDir=DIR.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

var grantedDir = "/nonexistent"

func init() {
	guest.Info("bulk", "1.0.0", "reads a lot of what it is granted")
	guest.Capabilities(abi.Capabilities{ReadDirs: []string{grantedDir}})
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		op, arg, _ := strings.Cut(req.Command, " ")
		r, err := try(op, arg)
		if err != nil {
			r = "error: " + err.Error()
		}
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: r}, nil
	})
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d %s", len(b), hex.EncodeToString(h[:]))
}

func try(op, arg string) (string, error) {
	switch op {
	case "readfile":
		b, err := os.ReadFile(arg)
		if err != nil {
			return "", err
		}
		return sum(b), nil
	case "bufio": // line by line through a 4 KiB bufio.Reader
		f, err := os.Open(arg)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r := bufio.NewReader(f)
		h := sha256.New()
		n := 0
		for {
			line, err := r.ReadSlice('\n')
			h.Write(line)
			n += len(line)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("%d %s", n, hex.EncodeToString(h.Sum(nil))), nil
	case "readat": // one ReadAt of the whole file (fd_pread)
		f, err := os.Open(arg)
		if err != nil {
			return "", err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", err
		}
		b := make([]byte, st.Size())
		if _, err := f.ReadAt(b, 0); err != nil {
			return "", err
		}
		return sum(b), nil
	case "list":
		es, err := os.ReadDir(arg)
		if err != nil {
			return "", err
		}
		names := make([]string, len(es))
		for i, e := range es {
			names[i] = e.Name()
		}
		return sum([]byte(strings.Join(names, "\n"))), nil
	case "open": // "open N DIR": opens DIR/f0..f(N-1) at once, checks each
		ns, dir, _ := strings.Cut(arg, " ")
		n, _ := strconv.Atoi(ns)
		var fs []*os.File
		defer func() {
			for _, f := range fs {
				f.Close()
			}
		}()
		for i := range n {
			f, err := os.Open(filepath.Join(dir, fmt.Sprintf("f%d", i)))
			if err != nil {
				return "", fmt.Errorf("after %d: %w", i, err)
			}
			fs = append(fs, f)
		}
		for i, f := range fs {
			b, err := io.ReadAll(f)
			if err != nil {
				return "", err
			}
			if want := fmt.Sprintf("file %d", i); string(b) != want {
				return "", fmt.Errorf("f%d: %q, want %q", i, b, want)
			}
		}
		return fmt.Sprintf("opened %d", n), nil
	case "stdin":
		n, err := os.Stdin.Read(make([]byte, 100))
		return fmt.Sprintf("stdin %d %v", n, err), nil
	case "readdirasfile":
		f, err := os.Open(arg)
		if err != nil {
			return "", err
		}
		defer f.Close()
		n, err := f.Read(make([]byte, 100))
		return fmt.Sprintf("dir read %d %v", n, err), nil
	case "print": // N lines, one write each, then N more in one write
		n, _ := strconv.Atoi(arg)
		for i := range n {
			fmt.Printf("line %06d\n", i)
		}
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "bulk %06d\n", i)
		}
		os.Stdout.WriteString(sb.String())
		fmt.Fprintln(os.Stderr, "on stderr")
		return "printed", nil
	}
	return "", fmt.Errorf("unknown op %q", op)
}

func main() { guest.Main() }
