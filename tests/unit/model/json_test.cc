#include "model/json.h"

#include <gtest/gtest.h>

#include <string>

#include "xmr/error.h"

namespace xmr::detail::json {
namespace {

TEST(Json, ParsesPecosParams) {
  const std::string text = R"({
 "__meta__": {
  "class_fullname": "pecos.xmc.base###MLModel"
 },
 "model": "MLModel",
 "nr_labels": 31271,
 "bias": 1.0,
 "neg": -2.5e-3,
 "flags": [true, false, null],
 "pred_kwargs": {"only_topk": 20, "post_processor": "l3-hinge"}
})";
  const Value v = Parse(text, "param.json");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.Find("__meta__")->Find("class_fullname")->str(), "pecos.xmc.base###MLModel");
  EXPECT_EQ(v.Find("nr_labels")->number(), 31271);
  EXPECT_TRUE(v.Find("nr_labels")->is_integer());
  EXPECT_FALSE(v.Find("bias")->is_integer());
  EXPECT_DOUBLE_EQ(v.Find("neg")->number(), -0.0025);
  ASSERT_EQ(v.Find("flags")->items().size(), 3u);
  EXPECT_TRUE(v.Find("flags")->items()[0].bool_value());
  EXPECT_TRUE(v.Find("flags")->items()[2].is_null());
  EXPECT_EQ(v.Find("pred_kwargs")->Find("post_processor")->str(), "l3-hinge");
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(Json, StringEscapes) {
  const Value v = Parse(R"(["a\"b\\c\/\n\t", "\u00e9\u20ac", "\ud83d\ude00"])", "s");
  EXPECT_EQ(v.items()[0].str(), "a\"b\\c/\n\t");
  EXPECT_EQ(v.items()[1].str(), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(v.items()[2].str(), "\xf0\x9f\x98\x80");
  // Round trip through the writer.
  const Value back = Parse(Write(v, 0), "w");
  EXPECT_EQ(back.items()[0].str(), v.items()[0].str());
  EXPECT_EQ(back.items()[2].str(), v.items()[2].str());
}

TEST(Json, WriterFormatsNumbersLikePython) {
  EXPECT_EQ(Write(Value::Float(1.0f)), "1.0");
  EXPECT_EQ(Write(Value::Float(0.1f)), "0.1");
  EXPECT_EQ(Write(Value::Float(-2.5f)), "-2.5");
  EXPECT_EQ(Write(Value::Int(-7)), "-7");
  EXPECT_EQ(Write(Value::Double(1e-7)), "1e-07");
  Value o = Value::Object();
  o.Set("a", Value::Int(1)).Set("b", Value::Array().Push(Value::Bool(true)).Push(Value()));
  o.Set("a", Value::Int(2));  // replaces, keeps position
  EXPECT_EQ(Write(o, 0), R"({"a": 2, "b": [true, null]})");
  EXPECT_EQ(Write(o, 1), "{\n \"a\": 2,\n \"b\": [\n  true,\n  null\n ]\n}");
  EXPECT_EQ(Parse(Write(o, 1), "x").Find("a")->number(), 2);
}

TEST(Json, RejectsMalformedInput) {
  for (const char* bad :
       {"", "{", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "01", "1.", "-", "\"abc", "\"\\x\"",
        "\"\\ud800\"", "tru", "{} x", "{'a': 1}", "1e999", "\"a\nb\""}) {
    try {
      Parse(bad, "bad.json");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption);
      EXPECT_EQ(e.message().rfind("bad.json: line ", 0), 0u) << e.message();
    }
  }
  // Deep nesting is refused, not a stack overflow.
  EXPECT_THROW(Parse(std::string(100000, '['), "deep"), Error);
}

}  // namespace
}  // namespace xmr::detail::json
