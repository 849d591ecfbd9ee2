// Stage lookup for FROM, COPY --from and RUN --mount from= (engine.h).
#include <gtest/gtest.h>

#include "mason/engine/engine.h"

using namespace mason;

TEST(StageForFrom, NamesIndexesAndImages) {
  frontend::dockerfile::StageGraph g;
  g.stages.resize(3);
  for (int i = 0; i < 3; ++i) g.stages[static_cast<std::size_t>(i)].index = i;
  g.stages[0].name = "builder";
  EXPECT_EQ(engine::stage_for_from(g, "builder"), 0);
  EXPECT_EQ(engine::stage_for_from(g, "Builder"), 0);
  EXPECT_EQ(engine::stage_for_from(g, "1"), 1);
  EXPECT_EQ(engine::stage_for_from(g, "7"), -1);
  EXPECT_EQ(engine::stage_for_from(g, "nginx:alpine"), -1);
  EXPECT_EQ(engine::stage_for_from(g, "99999999999999999999"), -1);
}
