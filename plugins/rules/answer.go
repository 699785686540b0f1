package rules

import (
	"fmt"
	"regexp"

	"github.com/codexhost/codexhost/abi"
)

// An answerRule is an [[answer]] table: it answers the agent's questions
// to the user (the tool-input hook) whose id matches question_id_regex
// (and, when set, whose text matches question_regex, in a thread and turn
// that match thread_id_regex and turn_id_regex) with its answers.
type answerRule struct {
	name                   string
	questionID             *regexp.Regexp
	question               *regexp.Regexp
	threadRegex, turnRegex *regexp.Regexp
	answers                []string
}

// Answers returns the names of p's answer rules, in order.
func (p *Policy) Answers() []string {
	names := make([]string, len(p.answers))
	for i, a := range p.answers {
		names[i] = a.name
	}
	return names
}

// Answer answers the agent's questions with the first answer rule that
// matches each. It answers only when every question has a matching rule:
// otherwise it abstains, and the next plugin (or the empty answer) decides
// all of them. A secret question (a password, a token) is never answered.
// Safe for concurrent use.
func (p *Policy) Answer(req *abi.ToolInputRequest) *abi.ToolInputResponse {
	if len(req.Questions) == 0 {
		return &abi.ToolInputResponse{Abstain: true}
	}
	out := make(map[string][]string, len(req.Questions))
	for _, q := range req.Questions {
		a := p.answerFor(req, &q)
		if a == nil || q.IsSecret {
			return &abi.ToolInputResponse{Abstain: true}
		}
		out[q.ID] = append([]string(nil), a.answers...)
	}
	return &abi.ToolInputResponse{Answers: out}
}

// AnsweredBy names the answer rule that answers q in req, or "" if none.
func (p *Policy) AnsweredBy(req *abi.ToolInputRequest, q *abi.Question) string {
	if a := p.answerFor(req, q); a != nil {
		return a.name
	}
	return ""
}

func (p *Policy) answerFor(req *abi.ToolInputRequest, q *abi.Question) *answerRule {
	for _, a := range p.answers {
		if a.questionID.MatchString(q.ID) &&
			(a.question == nil || a.question.MatchString(q.Question)) &&
			(a.threadRegex == nil || a.threadRegex.MatchString(req.ThreadID)) &&
			(a.turnRegex == nil || a.turnRegex.MatchString(req.TurnID)) {
			return a
		}
	}
	return nil
}

// answer parses one [[answer]] table.
func (p *parser) answer(t map[string]any) *answerRule {
	a := new(answerRule)
	nerr := len(p.errs)
	if name, ok := p.str(t, "name", "name"); ok {
		if name == "" {
			p.errorf("name", "name: must not be empty")
		}
		a.name = name
		p.label = fmt.Sprintf("answer %q", name)
	} else if _, has := t["name"]; !has {
		p.errorf("", "name: missing (every answer needs a name)")
	}
	for _, k := range sortedKeys(t) {
		switch k {
		case "name":
		case "question_id_regex":
			a.questionID = p.regex(t, k, k)
		case "question_regex":
			a.question = p.regex(t, k, k)
		case "thread_id_regex":
			a.threadRegex = p.regex(t, k, k)
		case "turn_id_regex":
			a.turnRegex = p.regex(t, k, k)
		case "answers":
			if ss, ok := p.strs(t, k, k); ok {
				if len(ss) == 0 {
					p.errorf(k, "answers: want a non-empty list of answers")
				}
				for _, s := range ss {
					if s == "" {
						p.errorf(k, "answers: an answer must not be empty")
					}
				}
				a.answers = ss
			}
		default:
			p.errorf(k, "unknown field %q (want name, question_id_regex, question_regex, thread_id_regex, turn_id_regex or answers)", k)
		}
	}
	if _, has := t["question_id_regex"]; !has {
		p.errorf("", "question_id_regex: missing (an answer names the questions it answers by their id)")
	}
	if _, has := t["answers"]; !has {
		p.errorf("", "answers: missing (want the answers, e.g. [\"Blue\"])")
	}
	if len(p.errs) > nerr {
		return nil
	}
	return a
}
