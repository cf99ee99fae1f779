package dev.cryptopipeline.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Released migrations are frozen: their SQL, and so their checksums, never change (every schema set up by an earlier
 * build would refuse to start). A schema change is a new migration with the next version, appended here.
 */
class MigrationsTest {
    /** The checksums of the released migrations, as recorded in every schema they were applied to. */
    private static final List<String> RELEASED = List.of(
            "1 24dab6ee7b962c15343cffd9946604dec583b618ece879d7a5135ab4fa4368f4",
            "2 38dc62b6e362171692f6998b74b703b5eba3a6ff7ce6be074b6567cd2087e23c",
            "3 7edd1accf8ca1d8a2d025742dd4945c00e62f171f2b474ee7ced2476f2181f66",
            "4 1d862837e1f516049b9699da1d8b66aad2b301409f14cd093075e32ff27b2ef7");

    @Test
    void released_migrations_keep_their_checksums() {
        List<String> checksums = Migrations.ALL.stream().map(m -> m.version() + " " + m.checksum()).toList();
        assertThat(checksums).as("append new migrations; never edit a released one").startsWith(
                RELEASED.toArray(String[]::new));
        assertThat(checksums).as("record each new migration's checksum in RELEASED").hasSameSizeAs(RELEASED);
    }

    @Test
    void versions_are_consecutive_from_one() {
        for (int i = 0; i < Migrations.ALL.size(); i++) {
            assertThat(Migrations.ALL.get(i).version()).isEqualTo(i + 1);
        }
    }

    @Test
    void no_migration_is_computed_from_todays_code() {
        assertThat(Migrations.ALL).allSatisfy(m -> assertThat(m.sql()).doesNotContain("${columns}")
                .doesNotContain("%s"));
    }
}
