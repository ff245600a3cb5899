//===- SemaDependencies.cpp - Stage order and dependency cycles -----------===//
//
// References between declarations and stages form a graph (edges recorded as Sema resolves names). A cycle
// anywhere is an error naming its path; and since stages run in the order written, a stage may only use
// (`init from`, `frozen(stage)`, a reward built on a stage, ...) stages written before it.
//
//===----------------------------------------------------------------------===//

#include "SemaImpl.h"

#include <functional>
#include <set>

namespace align::sema {

void Sema::checkDependencies() {
  // 1. Cycles anywhere (declarations and stages), each reported once.
  std::map<const void *, int> state; // 0 new, 1 on stack, 2 done
  std::vector<std::pair<const void *, ast::Range>> stack;
  std::set<const void *> inCycle;
  std::function<void(const void *)> visit = [&](const void *node) {
    state[node] = 1;
    for (const auto &[next, where] : edges_[node]) {
      stack.push_back({next, where});
      if (state[next] == 1) {
        std::string path;
        size_t start = stack.size() - 1;
        while (start > 0 && stack[start - 1].first != next)
          --start;
        path = nodeNames_[next];
        for (size_t i = start; i < stack.size(); ++i) {
          path += " -> " + nodeNames_[stack[i].first];
          inCycle.insert(stack[i].first);
        }
        const auto *stage = static_cast<const ast::Stage *>(node);
        bool selfInit = next == node && nodeNames_[node].rfind("stage ", 0) == 0 && stage->init &&
                        stage->init->stage == stage;
        if (selfInit)
          diags_.error(where, nodeNames_[node] + " cannot init from itself");
        else if (next == node)
          diags_.error(where, nodeNames_[node] + " depends on itself");
        else
          diags_.error(where, "dependency cycle: " + path);
      } else if (state[next] == 0) {
        visit(next);
      }
      stack.pop_back();
    }
    state[node] = 2;
  };
  for (const ast::StagePtr &s : recipe_->stages)
    if (state[s.get()] == 0) {
      stack.push_back({s.get(), s->nameRange});
      visit(s.get());
      stack.pop_back();
    }
  for (const auto &[node, _] : nodeNames_)
    if (state[node] == 0) {
      stack.push_back({node, {}});
      visit(node);
      stack.pop_back();
    }

  // 2. Stages run in order: a stage may only use stages written before it.
  for (const ast::StagePtr &s : recipe_->stages) {
    if (inCycle.count(s.get()))
      continue;
    std::set<const void *> seen{s.get()};
    std::vector<std::pair<const void *, ast::Range>> work;
    for (const auto &e : edges_[s.get()])
      work.push_back(e);
    while (!work.empty()) {
      auto [node, where] = work.back();
      work.pop_back();
      if (!seen.insert(node).second)
        continue;
      const ast::Stage *target = nullptr;
      for (const ast::StagePtr &t : recipe_->stages)
        if (t.get() == node)
          target = t.get();
      if (!target) {
        for (const auto &e : edges_[node])
          work.push_back({e.first, where});
        continue;
      }
      if (target->index <= s->index || inCycle.count(target))
        continue;
      bool isInit = s->init && s->init->stage == target && where.begin.line == s->init->sourceRange.begin.line &&
                    where.begin.col == s->init->sourceRange.begin.col;
      auto &d = diags_.error(where, isInit ? "stage '" + s->name + "' cannot init from '" + target->name +
                                                 "', which comes later"
                                           : "stage '" + s->name + "' uses stage '" + target->name +
                                                 "', which runs later");
      d.notes.push_back({target->nameRange, "'" + target->name + "' is defined here"});
      d.hints.push_back("stages run in the order they are written");
    }
  }
}

} // namespace align::sema
