#!/usr/bin/env bash
# Regenerates the option tables of docs/configuration.md from the options classes and the XML docs
# the build produces (names, types, defaults of a new instance, meanings), then shows what changed.
# The same code runs in the test that fails when the document drifts
# (tests/Tailor.Packaging.Tests: DocumentTests, OptionTables), so there is one generator, not two.
# Edit meanings in the code's XML docs, not in the tables; prose around the tables is hand-written.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Tailor.Packaging.Tests -c Release -nologo -clp:ErrorsOnly
UPDATE_CONFIG_DOCS=1 dotnet test tests/Tailor.Packaging.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~DocumentTests.Every_option_table_matches_the_options_classes_and_their_XML_docs"
git --no-pager diff --stat -- docs/configuration.md
