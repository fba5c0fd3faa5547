// Worldtour shows the ShapeWorld API in a few lines: generate a case,
// tokenize it, and judge both the ground truth and a wrong answer.
//
//	go run ./examples/worldtour [-seed 3] [-index 0]
package main

import (
	"flag"
	"fmt"
	"log"

	"parascope/engine/judge"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func main() {
	seed := flag.Uint64("seed", 3, "case stream seed")
	index := flag.Int("index", 0, "case number")
	flag.Parse()

	c := world.Generate(*seed, *index, world.MixEdit)
	fmt.Printf("task        %s (%s)\ninstruction %s\nreasoning   %s\n", c.Task, c.Edit, c.Instruction, c.Reasoning)

	cb := vq.Default()
	vocab := token.New(cb.K())
	seq, err := vocab.BuildCase(cb, c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sequence    %d tokens, output image at %v, reasoning at %v\n", len(seq.IDs), seq.Layout.OutputImage, seq.Layout.OutputText)

	// The ground truth scores 100; leaving the input unchanged does not.
	for _, answer := range []struct {
		name  string
		scene world.Scene
	}{{"target", c.Target}, {"unchanged input", c.Input}} {
		s, err := judge.Score(c, c.Reasoning, world.Render(answer.scene))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-16s image_alignment %5.1f  output_alignment %5.1f\n", answer.name, s.ImageAlignment, s.OutputAlignment)
	}
}
