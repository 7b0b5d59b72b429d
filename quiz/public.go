package quiz

import "sort"

// PublicQuiz is what a page shows before the student answers: the
// questions and their options, and nothing that gives the answer away
// (no correct flags, accepted texts, values, explanations or feedback).
// It is a separate type so that a template cannot leak an answer.
type PublicQuiz struct {
	ID        string           `json:"id"`
	Title     string           `json:"title"`
	PassMark  float64          `json:"pass_mark"`
	Questions []PublicQuestion `json:"questions"`
}

// PublicQuestion is a question without its answer.
type PublicQuestion struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Prompt string `json:"prompt"`
	// Options of a single or multiple question, in file order.
	Options []PublicOption `json:"options,omitempty"`
	// Unit shown beside a number or freetier answer box.
	Unit string `json:"unit,omitempty"`
	// Inputs the student fills in for a freetier question; each is
	// submitted as "<question id>.<input name>" (see Score).
	Inputs []InputSpec `json:"inputs,omitempty"`
	// Given are the freetier inputs the question fixes, sorted by name.
	Given []GivenInput `json:"given,omitempty"`
}

// PublicOption is an option without its correct flag or feedback.
type PublicOption struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// GivenInput is a freetier input fixed by the question.
type GivenInput struct {
	InputSpec
	Value string `json:"value"`
}

// InputField is the form field name of a freetier question's input.
func InputField(questionID, input string) string { return questionID + "." + input }

// Public returns the quiz as a page may show it before submission.
func (q *Quiz) Public() PublicQuiz {
	pq := PublicQuiz{ID: q.ID, Title: q.Title, PassMark: q.PassMark}
	for _, question := range q.Questions {
		pub := PublicQuestion{ID: question.ID, Kind: question.Kind, Prompt: question.Prompt}
		for _, o := range question.Options {
			pub.Options = append(pub.Options, PublicOption{ID: o.ID, Text: o.Text})
		}
		switch question.Kind {
		case KindNumber:
			if question.Answer != nil {
				pub.Unit = question.Answer.Unit
			}
		case KindFreetier:
			pub.Unit = question.Unit
			for _, in := range question.Inputs {
				if spec, ok := Inputs[in]; ok {
					pub.Inputs = append(pub.Inputs, spec)
				}
			}
			for in, v := range question.Given {
				spec := Inputs[in]
				spec.Name = in
				pub.Given = append(pub.Given, GivenInput{InputSpec: spec, Value: v})
			}
			sort.Slice(pub.Given, func(i, j int) bool { return pub.Given[i].Name < pub.Given[j].Name })
		}
		pq.Questions = append(pq.Questions, pub)
	}
	return pq
}
