package bashtrace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// errMalformed is returned for strace output this parser does not
// understand; the caller treats the whole trace as unusable (fail closed).
var errMalformed = errors.New("bashtrace: malformed strace output")

// call is one complete system call of the trace: a line, or an
// "<unfinished ...>" line joined with its "<... resumed>" line.
type call struct {
	idx  int // the index of the line where the call started
	pid  int
	name string
	args []arg
	ret  string // the return value: a number, or "?"
	err  string // the errno name on failure
}

// arg is one top-level argument of a call: a string, an array of strings,
// or anything else, kept as raw text.
type arg struct {
	raw   string
	str   *string  // a "…" string
	list  []string // a [ "…", … ] array of strings
	trunc bool     // strace abbreviated the string or array
}

func (a arg) isStr() bool { return a.str != nil }

// parseTrace reads strace -f output (one "PID call" a line) into calls in
// the order they started.
//
// When killed is set (strace was killed at the timeout), the last line may
// be cut short: it is dropped instead of failing the parse.
func parseTrace(r io.Reader, killed bool) ([]call, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	type pending struct {
		idx  int
		text string
	}
	open := map[int]pending{}
	var calls []call
	idx := 0
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if killed && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		idx++
		sp := strings.IndexByte(line, ' ')
		if sp <= 0 {
			return nil, fmt.Errorf("%w: line %d: no pid: %q", errMalformed, idx, clip(line))
		}
		pid, err := strconv.Atoi(line[:sp])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: no pid: %q", errMalformed, idx, clip(line))
		}
		rest := strings.TrimLeft(line[sp+1:], " ")
		switch {
		case strings.HasPrefix(rest, "+++ ") || strings.HasPrefix(rest, "--- "):
			continue // exit and signal notes
		case strings.HasPrefix(rest, "<... "):
			p, ok := open[pid]
			if !ok {
				return nil, fmt.Errorf("%w: line %d: resumed call that did not start: %q", errMalformed, idx, clip(line))
			}
			delete(open, pid)
			i := strings.Index(rest, " resumed>")
			if i < 0 {
				return nil, fmt.Errorf("%w: line %d: %q", errMalformed, idx, clip(line))
			}
			tail := rest[i+len(" resumed>"):]
			// A process killed in the call: "<... clone resumed> <unfinished ...>) = ?",
			// or a bare "<... clone resumed>" when it is gone.
			tail = strings.Replace(tail, " <unfinished ...>", "", 1)
			if strings.TrimSpace(tail) == "" {
				tail = ") = ?"
			}
			c, err := parseCall(p.text + tail)
			if err != nil {
				return nil, fmt.Errorf("line %d (%q): %w", idx, clip(line), err)
			}
			c.idx, c.pid = p.idx, pid
			calls = append(calls, c)
		case strings.HasSuffix(rest, " <unfinished ...>"):
			if _, ok := open[pid]; ok {
				return nil, fmt.Errorf("%w: line %d: two unfinished calls in pid %d", errMalformed, idx, pid)
			}
			open[pid] = pending{idx, strings.TrimSuffix(rest, " <unfinished ...>")}
		default:
			c, err := parseCall(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", idx, err)
			}
			c.idx, c.pid = idx, pid
			calls = append(calls, c)
		}
	}
	// A call still unfinished when the trace ends (a process killed in a
	// system call): keep it, without a result, so that an execve or an
	// open that was under way is not lost.
	for pid, p := range open {
		c, err := parseCall(p.text + ") = ?")
		if err != nil {
			continue
		}
		c.idx, c.pid = p.idx, pid
		calls = append(calls, c)
	}
	sortCalls(calls)
	return calls, nil
}

func sortCalls(cs []call) {
	// insertion sort by idx is enough: the calls are nearly sorted.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].idx < cs[j-1].idx; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// parseCall parses "name(args) = ret [ERRNO (text)]".
func parseCall(s string) (call, error) {
	var c call
	open := strings.IndexByte(s, '(')
	if open <= 0 {
		return c, fmt.Errorf("%w: no call: %q", errMalformed, clip(s))
	}
	c.name = s[:open]
	for _, r := range c.name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return c, fmt.Errorf("%w: bad call name: %q", errMalformed, clip(s))
		}
	}
	args, end, err := parseArgs(s, open+1)
	if err != nil {
		return c, err
	}
	c.args = args
	tail := strings.TrimLeft(s[end:], " ")
	if !strings.HasPrefix(tail, "= ") {
		return c, fmt.Errorf("%w: no result: %q", errMalformed, clip(s))
	}
	f := strings.Fields(tail[2:])
	if len(f) == 0 {
		return c, fmt.Errorf("%w: no result: %q", errMalformed, clip(s))
	}
	c.ret = f[0]
	if strings.HasPrefix(c.ret, "-") && len(f) > 1 {
		c.err = f[1]
	}
	return c, nil
}

// parseArgs parses the comma-separated arguments starting at s[i] up to
// the closing parenthesis; it returns the index after it.
func parseArgs(s string, i int) ([]arg, int, error) {
	var args []arg
	var cur arg
	var raw strings.Builder
	depth := 0
	flush := func() {
		cur.raw = strings.TrimSpace(raw.String())
		if cur.raw != "" || cur.str != nil || cur.list != nil {
			args = append(args, cur)
		}
		cur = arg{}
		raw.Reset()
	}
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == '"':
			str, n, trunc, err := unquote(s[i:])
			if err != nil {
				return nil, 0, err
			}
			raw.WriteString(s[i : i+n])
			i += n
			if trunc {
				cur.trunc = true
			}
			switch depth {
			case 0:
				if cur.str == nil && cur.list == nil {
					cur.str = &str
				}
			case 1:
				if strings.HasPrefix(strings.TrimSpace(raw.String()), "[") {
					cur.list = append(cur.list, str)
				}
			}
			continue
		case ch == '[' || ch == '{':
			depth++
		case ch == ']' || ch == '}':
			depth--
			if depth < 0 {
				return nil, 0, fmt.Errorf("%w: unbalanced brackets: %q", errMalformed, clip(s))
			}
		case ch == '(':
			depth++
		case ch == ')':
			if depth == 0 {
				flush()
				return args, i + 1, nil
			}
			depth--
		case ch == ',' && depth == 0:
			flush()
			i++
			continue
		case ch == '.' && strings.HasPrefix(s[i:], "...") && depth == 1:
			cur.trunc = true // an abbreviated array
		}
		raw.WriteByte(ch)
		i++
	}
	return nil, 0, fmt.Errorf("%w: unterminated call: %q", errMalformed, clip(s))
}

// unquote decodes the strace string literal at the start of s (strace -xx
// prints every byte as \xHH; the other C escapes are decoded too). It
// returns the string, the number of bytes consumed (including a trailing
// "..." that marks an abbreviated string), and whether it was abbreviated.
func unquote(s string) (string, int, bool, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		ch := s[i]
		switch ch {
		case '"':
			i++
			if strings.HasPrefix(s[i:], "...") {
				return b.String(), i + 3, true, nil
			}
			return b.String(), i, false, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, false, fmt.Errorf("%w: bad escape", errMalformed)
			}
			e := s[i+1]
			switch e {
			case 'x':
				if i+3 >= len(s) {
					return "", 0, false, fmt.Errorf("%w: bad \\x escape", errMalformed)
				}
				v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
				if err != nil {
					return "", 0, false, fmt.Errorf("%w: bad \\x escape", errMalformed)
				}
				b.WriteByte(byte(v))
				i += 4
				continue
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'v':
				b.WriteByte('\v')
			case 'f':
				b.WriteByte('\f')
			case '\\', '"':
				b.WriteByte(e)
			default:
				if e >= '0' && e <= '7' {
					j := i + 1
					v := 0
					for k := 0; k < 3 && j < len(s) && s[j] >= '0' && s[j] <= '7'; k++ {
						v = v*8 + int(s[j]-'0')
						j++
					}
					b.WriteByte(byte(v))
					i = j
					continue
				}
				return "", 0, false, fmt.Errorf("%w: unknown escape \\%c", errMalformed, e)
			}
			i += 2
		default:
			b.WriteByte(ch)
			i++
		}
	}
	return "", 0, false, fmt.Errorf("%w: unterminated string", errMalformed)
}

// flagWrites reports whether open(2) flags in strace's symbolic form
// (O_WRONLY|O_CREAT|…) or in a struct ({flags=O_RDWR, …}) ask to write,
// create or truncate.
func flagWrites(flags string) bool {
	for _, f := range strings.FieldsFunc(flags, func(r rune) bool {
		return r == '|' || r == ',' || r == '{' || r == '}' || r == ' ' || r == '='
	}) {
		switch f {
		case "O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE":
			return true
		}
	}
	return false
}
