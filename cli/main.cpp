// SPDX-License-Identifier: Apache-2.0
// groundeval — the command-line program: the CLI library with the built-in grounder kinds.
#include <groundeval/cli/app.hpp>

int main(int argc, char** argv) { return groundeval::cli::main(argc, argv); }
