package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
)

func newImportCmd() *cobra.Command {
	var from, out, target, meta string
	cmd := &cobra.Command{
		Use:   "import --from xgboost MODEL.json --out MODEL_FILE",
		Short: "Import a model trained elsewhere (XGBoost JSON) as a caserisk model file",
		Long: `Read a binary classifier saved by XGBoost's Booster.save_model("m.json")
(objective binary:logistic, binary:logitraw or reg:logistic, numerical
splits; a model trained with enable_categorical=True whose trees split by
category is refused, saying so) and write it as a caserisk model file that score, evaluate and the
scoring service use like a model caserisk trained. Margins equal XGBoost's
predict(output_margin=True) and explanations its pred_contribs, for values
XGBoost would see (it holds features as float32).

Features keep XGBoost's names (f0, f1, ... when it was trained without
names). --meta attaches the feature builder's FILE.meta.json so that reasons
are phrased for people. The model has no calibrator and no validation
metrics: run evaluate on held-out rows before relying on it.`,
		Example: "  caserisk import --from xgboost m.json --out model.json --target label_eviction_12m --meta features.meta.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "from", "out"); err != nil {
				return err
			}
			if from != "xgboost" {
				return usagef("import: --from %q: the only supported source is xgboost", from)
			}
			src := args[0]
			data, err := os.ReadFile(src)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			x, err := artifact.ReadXGBoostJSON(data, src)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			var md *dataset.Meta
			if meta != "" {
				b, err := os.ReadFile(meta)
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				if md, err = dataset.ParseMeta(meta, b); err != nil {
					return fmt.Errorf("import: %w", err)
				}
			}
			m, err := x.Model(artifact.ImportOptions{Target: target, Source: filepath.Base(src), Meta: md,
				Created: time.Now(), Version: version})
			if err != nil {
				return err
			}
			if err := m.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "imported %d trees over %d features (XGBoost %d.%d.%d, %s) from %s; wrote %s\n",
				len(x.Ensemble.Trees), x.Ensemble.NumFeatures, x.Version[0], x.Version[1], x.Version[2], x.Objective, src, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "format of the model to import: xgboost")
	cmd.Flags().StringVar(&out, "out", "", "caserisk model file to write")
	cmd.Flags().StringVar(&target, "target", "label", "label column the model predicts (evaluate's default --label)")
	cmd.Flags().StringVar(&meta, "meta", "", "feature metadata (FILE.meta.json) describing the model's features")
	return cmd
}
