package check

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on a Dockerfile this package reads.
const (
	maxDockerfileBytes = 1 << 20
	maxInstructions    = 10000
)

// Instruction is one Dockerfile instruction with its continuation lines
// joined.
type Instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string // the rest of the instruction, trimmed
	Line int    // 1-based line of the instruction's first line
}

// Flags splits leading --name=value options (COPY --from=build, RUN
// --mount=...) from the rest of the arguments.
func (in Instruction) Flags() (flags map[string]string, rest string) {
	flags = map[string]string{}
	rest = in.Args
	for strings.HasPrefix(rest, "--") {
		end := strings.IndexAny(rest, " \t")
		tok := rest
		if end >= 0 {
			tok, rest = rest[:end], strings.TrimLeft(rest[end:], " \t")
		} else {
			rest = ""
		}
		k, v, _ := strings.Cut(tok[2:], "=")
		flags[k] = v
	}
	return flags, rest
}

// Exec parses the JSON (exec) form ["a", "b"]; ok is false for shell form.
func Exec(args string) (argv []string, ok bool) {
	args = strings.TrimSpace(args)
	if !strings.HasPrefix(args, "[") {
		return nil, false
	}
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		return nil, false
	}
	return argv, true
}

// Stage is one FROM and the instructions up to the next FROM.
type Stage struct {
	Base, Name   string
	Instructions []Instruction
}

// Find returns the stage's instructions with the given command.
func (s *Stage) Find(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	GlobalArgs map[string]string // ARGs before the first FROM, with defaults
	Stages     []*Stage
}

// Stage returns the stage called name, or nil.
func (d *Dockerfile) Stage(name string) *Stage {
	for _, s := range d.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ParseDockerfile reads a Dockerfile: comments, parser directives, line
// continuations (backslash) and FROM ... AS name stages. Heredocs are not
// supported and are reported as an error.
func ParseDockerfile(r io.Reader) (*Dockerfile, error) {
	src, err := io.ReadAll(io.LimitReader(r, maxDockerfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading dockerfile: %w", err)
	}
	if len(src) > maxDockerfileBytes {
		return nil, fmt.Errorf("dockerfile larger than %d bytes", maxDockerfileBytes)
	}
	d := &Dockerfile{GlobalArgs: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(string(src)))
	sc.Buffer(make([]byte, 0, 64<<10), maxDockerfileBytes)
	var (
		cur      strings.Builder
		start    int
		lineNo   int
		count    int
		inInstr  bool
		finished = func() error {
			if !inInstr {
				return nil
			}
			inInstr = false
			text := strings.TrimSpace(cur.String())
			cur.Reset()
			if text == "" {
				return nil
			}
			count++
			if count > maxInstructions {
				return fmt.Errorf("more than %d instructions", maxInstructions)
			}
			cmd, args, _ := strings.Cut(text, " ")
			if i := strings.IndexByte(cmd, '\t'); i >= 0 {
				cmd, args = cmd[:i], cmd[i+1:]+" "+args
			}
			in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
			if strings.Contains(in.Args, "<<") && (in.Cmd == "RUN" || in.Cmd == "COPY") {
				return fmt.Errorf("line %d: heredocs are not supported", start)
			}
			return d.add(in)
		}
	)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives) inside or between instructions
		}
		if !inInstr {
			if trimmed == "" {
				continue
			}
			inInstr = true
			start = lineNo
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := finished(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading dockerfile: %w", err)
	}
	if inInstr {
		return nil, fmt.Errorf("line %d: instruction continues past the end of the file", start)
	}
	if len(d.Stages) == 0 {
		return nil, errors.New("dockerfile has no FROM")
	}
	return d, nil
}

func (d *Dockerfile) add(in Instruction) error {
	switch in.Cmd {
	case "FROM":
		_, rest := in.Flags()
		f := strings.Fields(rest)
		s := &Stage{}
		switch {
		case len(f) == 1:
			s.Base = f[0]
		case len(f) == 3 && strings.EqualFold(f[1], "AS"):
			s.Base, s.Name = f[0], f[2]
		default:
			return fmt.Errorf("line %d: bad FROM %q", in.Line, in.Args)
		}
		d.Stages = append(d.Stages, s)
		return nil
	case "ARG":
		if len(d.Stages) == 0 {
			k, v, _ := strings.Cut(in.Args, "=")
			d.GlobalArgs[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			return nil
		}
	}
	if len(d.Stages) == 0 {
		return fmt.Errorf("line %d: %s before the first FROM", in.Line, in.Cmd)
	}
	s := d.Stages[len(d.Stages)-1]
	s.Instructions = append(s.Instructions, in)
	return nil
}
