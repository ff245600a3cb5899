// Stand-in for <gloo/algorithm.h>: ProcessGroupGloo.hpp includes it and uses nothing from it (runtime/src/dist/gloo-declarations/README.md).
#pragma once
