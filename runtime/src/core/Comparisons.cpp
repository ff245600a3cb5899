//===- Comparisons.cpp - Preference files read as a trainer reads them ----===//
//
// readComparisons (align/rt/Inference.h): a comparison file goes through the trainers' typed data sources
// (data/Examples.h) and split rules (data/Splits.h), so `align-lm score-pairs` scores the rows a trainer's
// evaluation scores, in its order, and reproduces eval.json's pair accuracy (tests/e2e/run-recipe.sh).
//
//===----------------------------------------------------------------------===//

#include "align/rt/Inference.h"

#include "data/Examples.h"

namespace align::rt {

Comparisons readComparisons(const std::string &path, const ComparisonOptions &options) {
  data::SourceSpec spec;
  spec.name = "--data";
  spec.path = path;
  if (options.format == ComparisonFormat::Pairwise) {
    if (!options.domain.empty())
      throw Error("readComparisons: a preferred domain applies to the DSP format only");
    spec.kind = DataKind::pairwise;
    if (!options.userColumn.empty())
      spec.columns["user"] = options.userColumn;
  } else if (!options.userColumn.empty()) {
    throw Error("readComparisons: a user column applies to the pairwise format only");
  } else if (options.domain.empty()) {
    spec.kind = DataKind::scored;
  } else {
    spec.kind = DataKind::domain_pairs;
    spec.preferred = options.domain;
    spec.templateText = "## Human:\n{prompt}\n\n## Assistant:\n{response}";
  }

  // A recipe's `split NAME = PCT%`: the same rows, given the same shuffle seed. Without one, every row is
  // in `train`.
  std::string splitName = "train";
  spec.shuffleSeed = options.shuffleSeed;
  if (!options.split.empty()) {
    if (!(options.splitFraction >= 0 && options.splitFraction <= 1)) // a percentage passed as a fraction
      throw Error("readComparisons: split '" + options.split + "' needs a fraction of the rows in [0, 1], got " +
                  std::to_string(options.splitFraction));
    data::SplitSpec split;
    split.name = options.split;
    split.fraction = options.splitFraction;
    spec.splits.push_back(split);
    splitName = split.name;
  }

  Comparisons out;
  size_t next = 0;
  data::LoadedSource loaded = data::loadSource(spec); // named: a range-for over a temporary's member dangles
  for (const data::Example &ex : loaded.splits.at(splitName)) {
    if (options.limit > 0 && out.examples.size() == options.limit)
      break;
    const size_t example = out.examples.size();
    out.examples.push_back({ex.prompt, ex.responses, ex.user});
    const size_t first = next;
    next += ex.responses.size();
    for (size_t a = 0; a < ex.responses.size(); ++a)
      for (size_t b = a + 1; b < ex.responses.size(); ++b) {
        if (ex.scores[a] == ex.scores[b])
          ++out.ties;
        else if (ex.scores[a] > ex.scores[b])
          out.pairs.push_back({first + a, first + b, ex.versus, example});
        else
          out.pairs.push_back({first + b, first + a, ex.versus, example});
      }
  }
  return out;
}

} // namespace align::rt
