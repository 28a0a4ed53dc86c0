package metrics_test

import (
	"context"
	"fmt"

	"caserisk/models/metrics"
)

func ExampleEvaluate() {
	// Calibrated probabilities for ten cases and what happened.
	scores := []float64{0.91, 0.85, 0.7, 0.62, 0.4, 0.33, 0.3, 0.12, 0.08, 0.05}
	labels := []float64{1, 1, 0, 1, 0, 1, 0, 0, 0, 0}
	rep, err := metrics.Evaluate(context.Background(), scores, labels, metrics.Options{
		Ks:        []int{3}, // the team can review three cases
		Threshold: 0.5,
		Bootstrap: 200,
		Seed:      1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("AUC %.3f, AP %.3f\n", rep.ROCAUC.Value, rep.AveragePrecision.Value)
	top := rep.TopK[0]
	fmt.Printf("top %d: precision %.2f, recall %.2f\n", top.K, top.Precision.Value, top.Recall.Value)
	at := rep.AtThreshold
	fmt.Printf("p ≥ %.1f: %d flagged, precision %.2f, recall %.2f\n", at.Threshold, at.Flagged, at.Precision.Value, at.Recall.Value)
	fmt.Println("interval brackets AUC:", rep.ROCAUC.Lo <= rep.ROCAUC.Value && rep.ROCAUC.Value <= rep.ROCAUC.Hi)
	// Output:
	// AUC 0.875, AP 0.854
	// top 3: precision 0.67, recall 0.50
	// p ≥ 0.5: 4 flagged, precision 0.75, recall 0.75
	// interval brackets AUC: true
}
