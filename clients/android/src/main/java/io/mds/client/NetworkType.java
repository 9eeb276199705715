package io.mds.client;

/** The current network as mPaaS names it ({@code WIFI}, {@code 4G}, ...); on Android from ConnectivityManager (see glue/). */
public interface NetworkType {
    String current();
}
