// The parameter schema is the one source of CLI flags, job files and the GUI form: these tests
// pin what a user relies on (spellings, presets, bounds, round trips).
#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx {
namespace {

TEST(Parameters, FlagsUseTheDocumentedSpellings) {
  EXPECT_EQ(findParameter("beta").flag(), "--beta");
  EXPECT_EQ(findParameter("iterations").flag(), "--iterations");
  EXPECT_EQ(findParameter("threads").flag(), "--threads");
  EXPECT_EQ(findParameter("probe_update_start").flag(), "--probe-update-start");
  EXPECT_EQ(findParameter("algorithm").choices,
            (std::vector<std::string>{"dm", "raar", "hio", "er"}));
}

TEST(Parameters, EveryEntryHasHelpAndItsDefaultIsValid) {
  for (const auto& spec : reconParameterSchema()) {
    EXPECT_FALSE(spec.help.empty()) << spec.name;
    EXPECT_FALSE(spec.group.empty()) << spec.name;
    ReconParams p;
    EXPECT_NO_THROW(spec.set(p, spec.defaultText())) << spec.name;
  }
  EXPECT_NO_THROW(validate(ReconParams{}));
}

TEST(Parameters, PresetsSetTheRelaxation) {
  ReconParams p;
  applyPreset(p, Algorithm::RAAR);
  EXPECT_EQ(p.algorithm, Algorithm::RAAR);
  EXPECT_DOUBLE_EQ(p.beta, 0.8);
  applyPreset(p, Algorithm::DM);
  EXPECT_DOUBLE_EQ(p.beta, 1.0);
  EXPECT_DOUBLE_EQ(p.gammaA, -1.0);
  EXPECT_DOUBLE_EQ(p.gammaO, 1.0);
}

TEST(Parameters, OutOfRangeValuesAreRejectedByName) {
  ReconParams p;
  try {
    setParameter(p, "beta", "5");
    FAIL() << "beta = 5 accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "beta");
    EXPECT_NE(std::string(e.what()).find("outside"), std::string::npos) << e.what();
  }
  EXPECT_THROW(setParameter(p, "iterations", "2.5"), InputError);
  EXPECT_THROW(setParameter(p, "iterations", "ten"), InputError);
  EXPECT_THROW(setParameter(p, "algorithm", "magic"), InputError);
  EXPECT_THROW(setParameter(p, "no_such_thing", "1"), InputError);
  p.algorithm = Algorithm::RAAR;
  p.beta = 1.5;
  EXPECT_THROW(validate(p), InputError);
  ReconParams f;
  f.probeInit = ProbeInit::File;
  EXPECT_THROW(validate(f), InputError);
}

TEST(Parameters, JsonRoundTripKeepsEveryField) {
  ReconParams p;
  applyPreset(p, Algorithm::HIO);
  p.beta = 0.85;
  p.iterations = 123;
  p.seed = 42;
  p.probeInit = ProbeInit::Gaussian;
  p.probeFile = "some file.cxi";
  p.defocus_m = -1.5e-4;
  const ReconParams back = paramsFromJson(toJson(p), "test");
  EXPECT_EQ(back, p);
}

TEST(Parameters, JsonErrorsNameTheKey) {
  try {
    (void)paramsFromJson(R"({"beta": "x"})", "job.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "job.json");
    EXPECT_EQ(e.field(), "beta");
  }
  EXPECT_THROW((void)paramsFromJson("{not json", "job.json"), InputError);
  EXPECT_THROW((void)paramsFromJson(R"({"unknown": 1})", "job.json"), InputError);
}

TEST(Parameters, AlgorithmInJsonAppliesItsPresetBeforeOverrides) {
  const ReconParams p = paramsFromJson(R"({"beta": 0.7, "algorithm": "raar"})", "job");
  EXPECT_EQ(p.algorithm, Algorithm::RAAR);
  EXPECT_DOUBLE_EQ(p.beta, 0.7);
  const ReconParams q = paramsFromJson(R"({"algorithm": "raar"})", "job");
  EXPECT_DOUBLE_EQ(q.beta, 0.8);
}

}  // namespace
}  // namespace ptyx
