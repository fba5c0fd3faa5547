package bench

import (
	"encoding/json"
	"io"

	"parascope/engine/judge"
	"parascope/engine/world"
)

// caseLine is one line of WriteResults: what the case asked, what the
// answer should say, what the model said, and how it was judged.
type caseLine struct {
	Case        int          `json:"case"`
	Task        world.Task   `json:"task"`
	Edit        string       `json:"edit,omitempty"`
	Instruction string       `json:"instruction"`
	Truth       string       `json:"truth"`
	Output      string       `json:"output"`
	Scores      judge.Scores `json:"scores"`
	Clip        *float64     `json:"clip,omitempty"`
}

// WriteResults writes one JSON object a line for each judged case, in
// suite order, so that the cases behind a table can be read one by one.
func WriteResults(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	for i, r := range results {
		l := caseLine{Case: i, Task: r.Case.Task, Instruction: r.Case.Instruction,
			Truth: r.Case.Reasoning, Output: r.Text, Scores: r.Scores, Clip: r.Clip}
		if r.Case.Task == world.ThinkEdit {
			l.Edit = r.Case.Edit.String()
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return nil
}
