#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "test_support.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

fs::path temp_dir() { return test::make_temp_dir("io"); }
using test::read_file;

TEST(Io, Sha256KnownVectors) {
  EXPECT_EQ(sha256_string(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_string("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_string(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Io, AtomicWriteLeavesNoTemporaries) {
  const fs::path d = temp_dir();
  write_file_atomic((d / "a.txt").string(), "first");
  write_file_atomic((d / "a.txt").string(), "second");
  EXPECT_EQ(read_file(d / "a.txt"), "second");
  int files = 0;
  for (auto it = fs::directory_iterator(d); it != fs::directory_iterator(); ++it) ++files;
  EXPECT_EQ(files, 1);
  fs::remove_all(d);
}

TEST(Io, AtomicWriteIntoUnwritablePlaceIsOutputError) {
  EXPECT_THROW(write_file_atomic("/proc/definitely/not/here.txt", "x"), OutputError);
}

TEST(Io, CsvQuotingRoundTrip) {
  const fs::path d = temp_dir();
  const std::string text = "path,group,note\r\n" + csv_field("a,b.tif") + ",ctrl," + csv_field("said \"hi\"") +
                           "\n\nplain.tif,drug,\"two\nlines\"\n";
  write_file_atomic((d / "t.csv").string(), text);
  const CsvTable t = read_csv((d / "t.csv").string());
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0], "a,b.tif");
  EXPECT_EQ(t.rows[0][2], "said \"hi\"");
  EXPECT_EQ(t.rows[1][2], "two\nlines");
  EXPECT_EQ(t.column("group"), 1);
  EXPECT_EQ(t.column("nope"), -1);
  EXPECT_EQ(t.line_numbers[1], 4);
  fs::remove_all(d);
}

TEST(Io, CsvRaggedRowNamesLine) {
  const fs::path d = temp_dir();
  write_file_atomic((d / "bad.csv").string(), "a,b\n1,2\n3\n");
  try {
    read_csv((d / "bad.csv").string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_csv((d / "missing.csv").string()), InputError);
  fs::remove_all(d);
}

TEST(Io, JsonEscapesAndNests) {
  Json j = Json::object();
  j.set("name", "a\"b\n").set("n", 3).set("x", 0.5).set("ok", true).set("none", Json());
  Json arr = Json::array();
  arr.push(1).push("two");
  j.set("list", arr);
  EXPECT_EQ(j.dump(0), "{\"name\":\"a\\\"b\\n\",\"n\":3,\"x\":0.5,\"ok\":true,\"none\":null,\"list\":[1,\"two\"]}\n");
}

/// One SWC data line.
struct SwcRow {
  long index = 0, parent = 0;
  double x = 0, y = 0, z = 0;
};

/// The data lines of an SWC file, in file order.
std::vector<SwcRow> read_swc_rows(const std::string& text) {
  std::vector<SwcRow> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    SwcRow r;
    long type;
    double radius;
    fields >> r.index >> type >> r.x >> r.y >> r.z >> radius >> r.parent;
    rows.push_back(r);
  }
  return rows;
}

TEST(Io, SwcParentsBeforeChildren) {
  DendriteGraph g;
  DendriteBranch child;
  child.id = 1;
  child.parent_branch = 1;  // index of the parent below
  child.nodes = {{5, 1, 0, 0.5}, {5, 3, 0, 0.5}};
  DendriteBranch root;
  root.id = 0;
  root.nodes = {{0, 0, 0, 1}, {5, 0, 0, 1}, {10, 0, 0, 1}};
  g.branches = {child, root};
  EXPECT_NEAR(g.total_length_um(), 12.0, 1e-12);
  const fs::path d = temp_dir();
  write_swc((d / "t.swc").string(), g, {"stack a.tif"});
  const std::vector<SwcRow> rows = read_swc_rows(read_file(d / "t.swc"));
  std::vector<long> seen;
  for (const SwcRow& r : rows) {
    if (r.parent != -1) EXPECT_NE(std::find(seen.begin(), seen.end(), r.parent), seen.end()) << r.index;
    seen.push_back(r.index);
  }
  EXPECT_EQ(rows.size(), 5u);
  fs::remove_all(d);
}

TEST(Io, SwcChildStoredFromItsFarEndIsWrittenFromTheJunction) {
  // A side branch whose nodes run from its tip (5, 4) in to the parent at (5, 0.5): the SWC must start it at the
  // junction end, so every parent link is one node step (1 µm here), not the branch's whole length.
  DendriteGraph g;
  DendriteBranch root;
  root.id = 0;
  for (int x = 0; x <= 10; ++x) root.nodes.push_back({static_cast<double>(x), 0, 0, 1});
  DendriteBranch child;
  child.id = 1;
  child.parent_branch = 0;
  child.nodes = {{5, 4, 0, 0.5}, {5, 3, 0, 0.5}, {5, 2, 0, 0.5}, {5, 1, 0, 0.5}};
  g.branches = {root, child};
  const fs::path d = temp_dir();
  write_swc((d / "t.swc").string(), g, {});
  std::map<long, SwcRow> nodes;
  for (const SwcRow& r : read_swc_rows(read_file(d / "t.swc"))) nodes[r.index] = r;
  ASSERT_EQ(nodes.size(), 15u);
  double longest_link_um = 0.0;
  for (const auto& [idx, n] : nodes) {
    if (n.parent < 0) continue;
    const SwcRow& p = nodes.at(n.parent);
    longest_link_um = std::max(longest_link_um, std::hypot(n.x - p.x, n.y - p.y, n.z - p.z));
  }
  EXPECT_NEAR(longest_link_um, 1.0, 1e-9);
  // The child's first node is the one next to the junction, attached to the root's node at (5, 0, 0).
  const SwcRow& first_child = nodes.at(12);
  EXPECT_NEAR(first_child.y, 1.0, 1e-9);
  EXPECT_EQ(first_child.parent, 6);
  fs::remove_all(d);
}

TEST(DendriteGraphTest, BranchPointsAreWhereThreeBranchEndsMeet) {
  // Dendrite 0: a Y (three branches meeting at (10, 0, 1); one end 0.3 µm off, as refinement leaves them) and a
  // second fork at (20, 0, 1); dendrite 1: one unbranched branch crossing it (another dendrite: no branch point).
  auto branch = [](int dendrite, std::vector<DendriteNode> nodes) {
    DendriteBranch b;
    b.dendrite_id = dendrite;
    b.nodes = std::move(nodes);
    return b;
  };
  DendriteGraph g;
  g.branches = {branch(0, {{0, 0, 1, 1}, {5, 0, 1, 1}, {10, 0, 1, 1}}),
                branch(0, {{10.3, 0, 1, 1}, {15, 0, 1, 1}, {20, 0, 1, 1}}),
                branch(0, {{10, 0.2, 1, 0.5}, {10, 5, 1, 0.5}}),
                branch(0, {{20, 0, 1, 1}, {30, 0, 1, 1}}),
                branch(0, {{30, 8, 1, 0.5}, {20, 0, 1, 0.5}}),
                branch(1, {{5, -5, 1, 1}, {5, 5, 1, 1}})};
  const std::vector<PointUm> all = g.branch_points();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NEAR(all[0].x_um, 10.1, 0.05);
  EXPECT_NEAR(all[0].y_um, 0.07, 0.05);
  EXPECT_NEAR(all[1].x_um, 20.0, 1e-9);
  EXPECT_EQ(g.branch_points(0).size(), 2u);
  EXPECT_TRUE(g.branch_points(1).empty());
  // Two ends that meet are a joint, not a branch point.
  DendriteGraph chain;
  chain.branches = {branch(0, {{0, 0, 0, 1}, {5, 0, 0, 1}}), branch(0, {{5, 0, 0, 1}, {9, 0, 0, 1}})};
  EXPECT_TRUE(chain.branch_points().empty());
}

}  // namespace
}  // namespace spinescope
