#include "fs/mount_options.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

TEST(MountOptionsTest, SplitsAndUnescapes) {
  EXPECT_EQ(SplitOptions("a,b=c,,d"), (std::vector<std::string>{"a", "b=c", "d"}));
  EXPECT_EQ(SplitOptions("fsname=x\\,y,ro"), (std::vector<std::string>{"fsname=x,y", "ro"}));
  EXPECT_TRUE(SplitOptions("").empty());
}

TEST(MountOptionsTest, ParsesOwnOptions) {
  MountOptions o;
  ASSERT_TRUE(ParseMountOptions("ro,allow_other,peer=a.example:7000,listen=0.0.0.0:7001", &o).ok());
  ASSERT_TRUE(ParseMountOptions("peer=[::1]:7002,fsname=mystore,subtype=kv", &o).ok());
  EXPECT_TRUE(o.read_only);
  EXPECT_TRUE(o.allow_other);
  EXPECT_EQ(o.peers, (std::vector<std::string>{"a.example:7000", "[::1]:7002"}));
  EXPECT_EQ(o.listen, "0.0.0.0:7001");
  EXPECT_EQ(o.fsname, "mystore");
  EXPECT_EQ(o.subtype, "kv");
  EXPECT_TRUE(o.passthrough.empty());
}

TEST(MountOptionsTest, ListingsCarryDirectoryAttributesUnlessToldOtherwise) {
  MountOptions o;
  EXPECT_EQ(o.readdir_attrs, ReaddirAttrs::kDirectories);
  ASSERT_TRUE(ParseMountOptions("readdirplus", &o).ok());
  EXPECT_EQ(o.readdir_attrs, ReaddirAttrs::kAll);
  ASSERT_TRUE(ParseMountOptions("no_readdirplus", &o).ok());
  EXPECT_EQ(o.readdir_attrs, ReaddirAttrs::kNone);
  EXPECT_TRUE(o.passthrough.empty());  // neither reaches libfuse as an unknown option
}

TEST(MountOptionsTest, LaterValuesWin) {
  MountOptions o;
  EXPECT_FALSE(o.writeback_cache);
  ASSERT_TRUE(ParseMountOptions("ro,writeback_cache", &o).ok());
  EXPECT_TRUE(o.writeback_cache);
  ASSERT_TRUE(ParseMountOptions("rw,no_writeback_cache", &o).ok());
  EXPECT_FALSE(o.read_only);
  EXPECT_FALSE(o.writeback_cache);
}

TEST(MountOptionsTest, PassesOthersThroughInOrder) {
  MountOptions o;
  ASSERT_TRUE(ParseMountOptions("noatime,nosuid,max_read=65536,default_permissions", &o).ok());
  EXPECT_EQ(o.passthrough, (std::vector<std::string>{"noatime", "nosuid", "max_read=65536"}));
}

TEST(MountOptionsTest, RejectsBadPeerAndListen) {
  for (const char* bad : {"peer=host", "peer=:80", "peer=h:0", "peer=h:65536", "peer=h:x", "peer",
                          "listen=1.2.3.4", "peer=::1:80", "peer=", "fsname="}) {
    MountOptions o;
    Status st = ParseMountOptions(bad, &o);
    EXPECT_EQ(st.code(), Code::kInvalid) << bad;
    EXPECT_FALSE(st.message().empty()) << bad;
  }
}

TEST(MountOptionsTest, ValidatesHostPort) {
  EXPECT_TRUE(ValidateHostPort("localhost:1").ok());
  EXPECT_TRUE(ValidateHostPort("10.0.0.1:65535").ok());
  EXPECT_TRUE(ValidateHostPort("[fe80::1]:22").ok());
  EXPECT_FALSE(ValidateHostPort("[]:22").ok());
  EXPECT_FALSE(ValidateHostPort("host:22x").ok());
}

TEST(MountOptionsTest, StripsWhatMountUsesItself) {
  EXPECT_EQ(StripHelperOptions("defaults,_netdev,noauto,auto,nofail,user,users,nouser,rw"), "");
  EXPECT_EQ(StripHelperOptions("x-systemd.automount,comment=boot,ro,allow_other,peer=h:1"),
            "ro,allow_other,peer=h:1");
  EXPECT_EQ(StripHelperOptions("noatime,fsname=a\\,b,defaults"), "noatime,fsname=a\\,b");
  // Only exact names are mount's own: "autofoo" and "users_x" pass through.
  EXPECT_EQ(StripHelperOptions("autofoo,users_x"), "autofoo,users_x");
}

TEST(MountOptionsTest, BuildsTheFuseOptionString) {
  MountOptions o;
  ASSERT_TRUE(ParseMountOptions("ro,allow_other,noatime", &o).ok());
  EXPECT_EQ(FuseOptionString(o, "/s/t"),
            "default_permissions,fsname=/s/t,subtype=kvfs,ro,allow_other,noatime");
  MountOptions comma;
  EXPECT_EQ(FuseOptionString(comma, "/a,b"), "default_permissions,fsname=/a\\,b,subtype=kvfs");
  // Sync options are the daemon's, never libfuse's.
  MountOptions sync;
  ASSERT_TRUE(ParseMountOptions("peer=h:1,listen=h:2", &sync).ok());
  EXPECT_EQ(FuseOptionString(sync, "/s"), "default_permissions,fsname=/s,subtype=kvfs");
}

}  // namespace
}  // namespace kvfs::fs
