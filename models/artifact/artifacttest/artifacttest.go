// Package artifacttest provides small, valid model files for the tests of
// the packages that register, load and serve models.
package artifacttest

import (
	"caserisk/models/artifact"
	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/tree"
)

// Stump returns a valid one-split gradient-boosted model for target (a
// target name or its label column): feature "arrears_gbp" below 100 gives
// margin -leaf, else +leaf; a second feature, "repairs", is unused.
func Stump(target string, leaf float64) *artifact.Model {
	e := &tree.Ensemble{NumFeatures: 2, Trees: []tree.Tree{{
		Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Feature: []int32{0, -1, -1}, Threshold: []float64{100, 0, 0},
		DefaultLeft: []bool{true, false, false}, Value: []float64{0, -leaf, leaf}, Cover: []float64{10, 5, 5}, Gain: []float64{1, 0, 0},
	}}}
	return &artifact.Model{Algorithm: artifact.GBDT, Target: target, Ensemble: e, Calibration: &calibrate.Calibrator{Method: calibrate.None},
		Features: []artifact.Feature{
			{FeatureMeta: dataset.FeatureMeta{Name: "arrears_gbp", Unit: "GBP", Description: "rent arrears"}},
			{FeatureMeta: dataset.FeatureMeta{Name: "repairs", Unit: "count", Description: "repairs"}}},
		Created: "2026-01-01T00:00:00Z", CaseriskVersion: "test"}
}

// StumpJSON returns Stump(target, leaf) as the bytes of a model file.
func StumpJSON(target string, leaf float64) ([]byte, error) {
	return Stump(target, leaf).Marshal()
}
