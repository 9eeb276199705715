package io.mds.client.engine;

import io.mds.client.MdsException;

/** "Is this identity on that whitelist?" — possibly after fetching one signed shard. */
public interface Membership {
    boolean contains(String whitelistId, String identity) throws MdsException;
}
