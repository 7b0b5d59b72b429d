package content

import (
	"github.com/coursekit/workshop/quiz"
)

// QuizParser parses one quiz file: quiz.Parse, unless a test replaces it.
type QuizParser func(data []byte, file string) (*quiz.Quiz, []quiz.Problem)

// quizProblems converts the quiz parser's problems.
func quizProblems(ps []quiz.Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		out[i] = Problem{File: p.File, Line: p.Line, Message: "quiz: " + p.Message}
	}
	return out
}
