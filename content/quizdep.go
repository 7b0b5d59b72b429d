package content

import (
	"gopkg.in/yaml.v3"
)

// Quiz is a parsed quiz file.
type Quiz struct {
	ID string
	// Value is what the quiz parser returned.
	Value any
}

// QuizParser parses one quiz file and returns the quiz (nil when it cannot
// be parsed), its id, and the problems found, with file and line.
type QuizParser func(data []byte, file string) (q any, id string, problems []Problem)

// parseQuizID is the fallback parser: it only reads the quiz's id.
func parseQuizID(data []byte, file string) (any, string, []Problem) {
	var q struct {
		ID string `yaml:"id"`
	}
	if err := yaml.Unmarshal(data, &q); err != nil {
		return nil, "", []Problem{{File: file, Line: 1, Message: "quiz: invalid YAML: " + err.Error()}}
	}
	return nil, q.ID, nil
}
