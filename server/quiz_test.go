package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestQuizPageHidesAnswersUntilSubmitted(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.StudentA)
	body := readBody(h.get(c, "/guide/guided/publish-port"))
	if !strings.Contains(body, `name="loopback-bind"`) {
		t.Fatal("the quiz is not on the step page")
	}
	for _, leak := range []string{"correct", "The address before the host port is where Docker listens", "Nothing listens on the public address"} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %q before the quiz is answered", leak)
		}
	}
}

func TestQuizAttemptsAreScoredAndStored(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.StudentA)
	// A wrong answer first.
	resp := h.postForm(c, "/quizzes/publish-port", url.Values{"loopback-bind": {"a"}, "port-order": {"b"}})
	readBody(resp)
	if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "/publish-port#quiz") {
		t.Fatalf("submit: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	body := readBody(h.get(c, "/guide/guided/publish-port"))
	for _, want := range []string{"Not quite.", "Nothing listens on the public address", "The address before the host port is where Docker listens"} {
		if !strings.Contains(body, want) {
			t.Errorf("after submitting, the page lacks %q (marks, feedback, explanation)", want)
		}
	}
	// Then everything right through the JSON API.
	q, _ := h.Srv.quizFor("publish-port")
	answers := map[string][]string{}
	for _, question := range q.Questions {
		switch {
		case len(question.Options) > 0:
			for _, o := range question.Options {
				if o.Correct {
					answers[question.ID] = append(answers[question.ID], o.ID)
				}
			}
		case len(question.Accepted) > 0:
			answers[question.ID] = []string{question.Accepted[0]}
		case question.Answer != nil:
			answers[question.ID] = []string{json.Number(strings.TrimSpace(strings.Trim(jsonNumber(question.Answer.Value), " "))).String()}
		}
	}
	payload, _ := json.Marshal(map[string]any{"answers": answers})
	resp = h.api(c, "POST", "/api/v1/quizzes/publish-port", string(payload), "")
	text := readBody(resp)
	if resp.StatusCode != 200 || !strings.Contains(text, `"passed":true`) {
		t.Fatalf("all-right attempt: %d %s", resp.StatusCode, text)
	}
	scores, err := h.DB.QuizScores(context.Background(), w.StudentA.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := scores["publish-port"]
	if got.Attempts != 2 || got.Best != 1 || got.Latest != 1 {
		t.Errorf("stored scores: %+v, want 2 attempts, best 1, latest 1", got)
	}
	// An instructor sees nothing of it unless they teach the cohort: the
	// attempts are the student's own (the dashboard shows them to staff).
	attempts, err := h.DB.QuizAttempts(context.Background(), w.StudentA.ID, "publish-port", 10)
	if err != nil || len(attempts) != 2 || attempts[0].CohortID == nil || *attempts[0].CohortID != w.CohortA.ID {
		t.Errorf("attempts: %v %+v", err, attempts)
	}
}

func TestQuizRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.StudentA)
	for name, v := range map[string]url.Values{
		"not UTF-8": {"random-port": {"\xff\xfe"}},
		"too long":  {"random-port": {strings.Repeat("x", 20_000)}},
	} {
		resp := h.postForm(c, "/quizzes/publish-port", v)
		body := readBody(resp)
		if resp.StatusCode != 422 || !strings.Contains(body, "random-port") {
			t.Errorf("%s: got %d, want 422 naming the field (%.200s)", name, resp.StatusCode, body)
		}
	}
	if resp := h.postForm(c, "/quizzes/no-such-quiz", nil); resp.StatusCode != 404 {
		t.Errorf("unknown quiz: %d", resp.StatusCode)
	}
	scores, _ := h.DB.QuizScores(context.Background(), w.StudentA.ID)
	if len(scores) != 0 {
		t.Errorf("bad input stored attempts: %+v", scores)
	}
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
