// The cutting of option strings that the -s, -l and other option parsers
// share: empty fields are kept, a value is cut at the first '=' only.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "common/option_fields.hpp"

namespace acrn {
namespace {

using Fields = std::vector<std::string_view>;

TEST(OptionFieldsTest, EverySeparatorStartsAField) {
    EXPECT_EQ(split_fields("a,b=c,d", ','), (Fields{"a", "b=c", "d"}));
    EXPECT_EQ(split_fields("", ','), (Fields{""}));
    EXPECT_EQ(split_fields(",a,,", ','), (Fields{"", "a", "", ""}));
    EXPECT_EQ(split_fields("8:1:1", ':'), (Fields{"8", "1", "1"}));
    EXPECT_EQ(split_fields("a,b", ':'), (Fields{"a,b"}));
}

TEST(OptionFieldsTest, AValueStartsAfterTheFirstEquals) {
    const KeyValue plain = split_key_value("ro");
    EXPECT_EQ(plain.key, "ro");
    EXPECT_EQ(plain.value, "");
    EXPECT_FALSE(plain.has_value);

    const KeyValue empty = split_key_value("aio=");
    EXPECT_EQ(empty.key, "aio");
    EXPECT_EQ(empty.value, "");
    EXPECT_TRUE(empty.has_value);

    const KeyValue nested = split_key_value("name=/tmp/a=b");
    EXPECT_EQ(nested.key, "name");
    EXPECT_EQ(nested.value, "/tmp/a=b");
    EXPECT_TRUE(nested.has_value);

    EXPECT_EQ(split_key_value("=x").key, "");
    EXPECT_EQ(split_key_value("=x").value, "x");
}

}  // namespace
}  // namespace acrn
